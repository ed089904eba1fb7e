// One function per API call, typed by the server's contract.

import { http } from './http';
import type {
  AuthResult,
  Conversation,
  ConversationKind,
  ConversationMember,
  Department,
  Invite,
  InvitePreview,
  Message,
  Org,
  OrgMember,
  Receipts,
  User,
} from './types';

interface Page<T> {
  items: T[];
}

export const api = {
  register: (body: { email: string; password: string; display_name: string }) => http<AuthResult>('/auth/register', { method: 'POST', body }),
  login: (body: { email: string; password: string }) => http<AuthResult>('/auth/login', { method: 'POST', body }),
  logout: () => http<void>('/auth/logout', { method: 'POST' }),
  me: () => http<User>('/me'),

  orgs: () => http<Page<Org>>('/orgs'),
  createOrg: (name: string) => http<Org>('/orgs', { method: 'POST', body: { name } }),
  orgMembers: (orgId: string, after?: string) =>
    http<Page<OrgMember> & { next_after: string | null }>(`/orgs/${enc(orgId)}/members`, { query: { after, limit: 500 } }),
  updateOrgMember: (orgId: string, userId: string, body: { role?: string; department_id?: string | null }) =>
    http<OrgMember>(`/orgs/${enc(orgId)}/members/${enc(userId)}`, { method: 'PUT', body }),
  removeOrgMember: (orgId: string, userId: string) => http<void>(`/orgs/${enc(orgId)}/members/${enc(userId)}`, { method: 'DELETE' }),
  createInvite: (orgId: string, body: { role?: 'member' | 'admin'; max_uses?: number; expires_in_s?: number } = {}) =>
    http<Invite>(`/orgs/${enc(orgId)}/invites`, { method: 'POST', body }),
  previewInvite: (code: string) => http<InvitePreview>(`/invites/${enc(code)}`),
  acceptInvite: (code: string) => http<{ org_id: string; org: Org; role: string }>(`/invites/${enc(code)}/accept`, { method: 'POST' }),
  departments: (orgId: string) => http<Page<Department>>(`/orgs/${enc(orgId)}/departments`),
  createDepartment: (orgId: string, name: string, parentId: string | null = null) =>
    http<Department>(`/orgs/${enc(orgId)}/departments`, { method: 'POST', body: { name, parent_id: parentId } }),

  createConversation: (orgId: string, body: { kind: ConversationKind; member_ids: string[]; title?: string | null }) =>
    http<Conversation>(`/orgs/${enc(orgId)}/conversations`, { method: 'POST', body }),
  conversations: (before?: string) => http<Page<Conversation> & { next_before: string | null }>('/conversations', { query: { before, limit: 200 } }),
  conversation: (id: string) => http<Conversation>(`/conversations/${enc(id)}`),
  renameConversation: (id: string, title: string) => http<Conversation>(`/conversations/${enc(id)}`, { method: 'PATCH', body: { title } }),
  conversationMembers: (id: string, after?: string) =>
    http<Page<ConversationMember> & { next_after: string | null }>(`/conversations/${enc(id)}/members`, { query: { after, limit: 1000 } }),
  addConversationMembers: (id: string, userIds: string[]) =>
    http<{ added: string[] }>(`/conversations/${enc(id)}/members`, { method: 'POST', body: { user_ids: userIds } }),
  removeConversationMember: (id: string, userId: string) => http<void>(`/conversations/${enc(id)}/members/${enc(userId)}`, { method: 'DELETE' }),

  sendMessage: (conversationId: string, body: { client_msg_id: string; text: string; reply_to_id?: string | null; mentions?: string[] }) =>
    http<Message>(`/conversations/${enc(conversationId)}/messages`, { method: 'POST', body, timeoutMs: 20_000 }),
  messages: (conversationId: string, query: { after_seq?: number; before_seq?: number; limit?: number }) =>
    http<Page<Message> & { has_more: boolean }>(`/conversations/${enc(conversationId)}/messages`, { query }),
  message: (id: string) => http<Message>(`/messages/${enc(id)}`),
  editMessage: (id: string, text: string) => http<Message>(`/messages/${enc(id)}`, { method: 'PATCH', body: { text } }),
  recallMessage: (id: string) => http<Message>(`/messages/${enc(id)}/recall`, { method: 'POST' }),
  markRead: (conversationId: string, upToSeq: number) => http<void>(`/conversations/${enc(conversationId)}/read`, { method: 'POST', body: { up_to_seq: upToSeq } }),
  receipts: (messageId: string) => http<Receipts>(`/messages/${enc(messageId)}/receipts`),
};

function enc(part: string): string {
  return encodeURIComponent(part);
}
