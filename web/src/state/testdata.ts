import type { ConversationMember, FrameConversation, FrameMessage } from '../api/types';

export function message(overrides: Partial<FrameMessage> & { seq: number }): FrameMessage {
  return {
    id: `m${overrides.seq}`,
    conversation_id: 'c1',
    sender_id: 'bob',
    client_msg_id: `cm${overrides.seq}`,
    type: 'text',
    text: `hello ${overrides.seq}`,
    reply_to_id: null,
    approval_id: null,
    mentions: [],
    created_at: `2026-11-23T10:${String(overrides.seq).padStart(2, '0')}:00Z`,
    edited_at: null,
    recalled: false,
    unread_count: null,
    media: [],
    burn_after_s: null,
    burn_expires_at: null,
    burned: false,
    ...overrides,
  };
}

export function conversation(overrides: Partial<FrameConversation> = {}): FrameConversation {
  return {
    id: 'c1',
    org_id: 'o1',
    kind: 'group',
    title: 'Team',
    created_by: 'me',
    created_at: '2026-11-23T09:00:00Z',
    member_count: 3,
    last_seq: 0,
    read_seq: 0,
    unread_count: 0,
    last_message: null,
    peer_id: null,
    ...overrides,
  };
}

export function member(userId: string, readSeq: number, joinedAt = '2026-11-23T09:00:00Z'): ConversationMember {
  return { user_id: userId, display_name: userId.toUpperCase(), role: 'member', read_seq: readSeq, joined_at: joinedAt };
}
