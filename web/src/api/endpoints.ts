// One function per API call, typed by the server's contract (see types.ts).

import { http } from './http';
import type {
  AuthResult,
  Conversation,
  ConversationMemberPage,
  ConversationPage,
  Department,
  Invite,
  InviteAccepted,
  InvitePreview,
  Media,
  Message,
  MessagePage,
  Org,
  OrgMember,
  OrgMemberPage,
  Receipts,
  Schemas,
  User,
} from './types';

/** A request body: fields with server-side defaults may be left out. */
type Body<K extends keyof Schemas> = Partial<Schemas[K]>;
type Required_<K extends keyof Schemas, F extends keyof Schemas[K]> = Body<K> & Pick<Schemas[K], F>;

export const api = {
  register: (body: Schemas['RegisterIn']) => http<AuthResult>('/auth/register', { method: 'POST', body }),
  login: (body: Schemas['LoginIn']) => http<AuthResult>('/auth/login', { method: 'POST', body }),
  logout: () => http<void>('/auth/logout', { method: 'POST' }),
  me: () => http<User>('/me'),

  orgs: () => http<Schemas['OrgList']>('/orgs'),
  createOrg: (name: string) => http<Org>('/orgs', { method: 'POST', body: { name } satisfies Schemas['OrgIn'] }),
  orgMembers: (orgId: string, after?: string) => http<OrgMemberPage>(`/orgs/${enc(orgId)}/members`, { query: { after, limit: 500 } }),
  updateOrgMember: (orgId: string, userId: string, body: Schemas['MemberUpdateIn']) =>
    http<OrgMember>(`/orgs/${enc(orgId)}/members/${enc(userId)}`, { method: 'PUT', body }),
  removeOrgMember: (orgId: string, userId: string) => http<void>(`/orgs/${enc(orgId)}/members/${enc(userId)}`, { method: 'DELETE' }),
  createInvite: (orgId: string, body: Body<'InviteIn'> = {}) => http<Invite>(`/orgs/${enc(orgId)}/invites`, { method: 'POST', body }),
  previewInvite: (code: string) => http<InvitePreview>(`/invites/${enc(code)}`),
  acceptInvite: (code: string) => http<InviteAccepted>(`/invites/${enc(code)}/accept`, { method: 'POST' }),
  departments: (orgId: string) => http<Schemas['DepartmentList']>(`/orgs/${enc(orgId)}/departments`),
  createDepartment: (orgId: string, name: string, parentId: string | null = null) =>
    http<Department>(`/orgs/${enc(orgId)}/departments`, { method: 'POST', body: { name, parent_id: parentId } satisfies Schemas['DepartmentIn'] }),

  createConversation: (orgId: string, body: Schemas['CreateConversationIn']) =>
    http<Conversation>(`/orgs/${enc(orgId)}/conversations`, { method: 'POST', body }),
  conversations: (before?: string) => http<ConversationPage>('/conversations', { query: { before, limit: 200 } }),
  conversation: (id: string) => http<Conversation>(`/conversations/${enc(id)}`),
  renameConversation: (id: string, title: string) =>
    http<Conversation>(`/conversations/${enc(id)}`, { method: 'PATCH', body: { title } satisfies Schemas['UpdateConversationIn'] }),
  conversationMembers: (id: string, after?: string) =>
    http<ConversationMemberPage>(`/conversations/${enc(id)}/members`, { query: { after, limit: 1000 } }),
  addConversationMembers: (id: string, userIds: string[]) =>
    http<Schemas['AddedMembersOut']>(`/conversations/${enc(id)}/members`, { method: 'POST', body: { user_ids: userIds } satisfies Schemas['AddMembersIn'] }),
  removeConversationMember: (id: string, userId: string) => http<void>(`/conversations/${enc(id)}/members/${enc(userId)}`, { method: 'DELETE' }),

  sendMessage: (conversationId: string, body: Required_<'SendMessageIn', 'client_msg_id' | 'text'>) =>
    http<Message>(`/conversations/${enc(conversationId)}/messages`, { method: 'POST', body: { type: 'text', ...body }, timeoutMs: 20_000 }),
  messages: (conversationId: string, query: { after_seq?: number; before_seq?: number; limit?: number }) =>
    http<MessagePage>(`/conversations/${enc(conversationId)}/messages`, { query }),
  message: (id: string) => http<Message>(`/messages/${enc(id)}`),
  editMessage: (id: string, text: string) => http<Message>(`/messages/${enc(id)}`, { method: 'PATCH', body: { text } satisfies Schemas['EditMessageIn'] }),
  openMessage: (id: string) => http<Message>(`/messages/${enc(id)}/open`, { method: 'POST' }),
  recallMessage: (id: string) => http<Message>(`/messages/${enc(id)}/recall`, { method: 'POST' }),
  markRead: (conversationId: string, upToSeq: number) =>
    http<void>(`/conversations/${enc(conversationId)}/read`, { method: 'POST', body: { up_to_seq: upToSeq } satisfies Schemas['ReadIn'] }),
  receipts: (messageId: string) => http<Receipts>(`/messages/${enc(messageId)}/receipts`),

  /** Uploads a photo or a voice clip; the server decides what it is from the bytes. */
  uploadMedia: (file: Blob, filename: string) => {
    const form = new FormData();
    form.append('file', file, filename);
    return http<Media>('/media', { method: 'POST', body: form, timeoutMs: 120_000 });
  },
};

function enc(part: string): string {
  return encodeURIComponent(part);
}
