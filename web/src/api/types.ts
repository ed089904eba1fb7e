// Domain types used across the client.
// TEMPORARY: hand-written from docs/API.md until the server exports its OpenAPI document
// and event schema; then these become aliases of the generated types.

export interface User {
  id: string;
  email: string;
  display_name: string;
  created_at: string;
}

export interface AuthResult {
  user: User;
  token: string;
}

export type OrgRole = 'owner' | 'admin' | 'member';

export interface Org {
  id: string;
  name: string;
  created_at: string;
  role: OrgRole;
}

export interface OrgMember {
  user_id: string;
  display_name: string;
  email: string;
  role: OrgRole;
  department_id: string | null;
  joined_at: string;
}

export interface Department {
  id: string;
  org_id: string;
  name: string;
  parent_id: string | null;
}

export interface Invite {
  code: string;
  org_id: string;
  role: string;
  max_uses: number;
  uses: number;
  expires_at: string;
}

export interface InvitePreview {
  org_id: string;
  org_name: string;
  role: string;
  expires_at: string;
}

export interface Message {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  client_msg_id: string;
  type: string;
  text: string;
  reply_to_id: string | null;
  mentions: string[];
  created_at: string;
  edited_at: string | null;
  recalled: boolean;
  unread_count: number | null;
}

export type ConversationKind = 'dm' | 'group';

export interface Conversation {
  id: string;
  org_id: string;
  kind: ConversationKind;
  title: string | null;
  created_by: string;
  created_at: string;
  member_count: number;
  last_seq: number;
  read_seq: number;
  unread_count: number;
  last_message: Message | null;
  peer_id: string | null;
}

export interface ConversationMember {
  user_id: string;
  display_name: string;
  role: string;
  read_seq: number;
  joined_at: string;
}

export interface Receipts {
  read: string[];
  unread: string[];
  read_count: number;
  unread_count: number;
}

export interface ReceiptRange {
  user_id: string;
  from_seq: number;
  up_to_seq: number;
}

export type ServerEvent =
  | { type: 'message.created'; cursor: string; message: Message }
  | { type: 'message.updated'; cursor: string; message: Message }
  | { type: 'conversation.created'; cursor: string; conversation: Conversation; member_ids: string[] }
  | { type: 'conversation.updated'; cursor: string; conversation_id: string; title: string | null }
  | { type: 'member.joined'; cursor: string; conversation_id: string; user_ids: string[] }
  | { type: 'member.left'; cursor: string; conversation_id: string; user_id: string }
  | { type: 'receipt.updated'; cursor: string; conversation_id: string; receipts: ReceiptRange[] }
  | { type: 'org.member_joined'; cursor: string; org_id: string; member: OrgMember }
  | { type: 'org.member_updated'; cursor: string; org_id: string; member: OrgMember }
  | { type: 'org.member_removed'; cursor: string; org_id: string; user_id: string }
  | { type: 'org.department_created'; cursor: string; department: Department };

/** Frames that carry no state: connection control. */
export type ControlFrame =
  | { type: 'ready'; cursor: string }
  | { type: 'resync_required'; cursor: string }
  | { type: 'ping' }
  | { type: 'pong' };

export type ServerFrame = ServerEvent | ControlFrame;
