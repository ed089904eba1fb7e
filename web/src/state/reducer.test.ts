import { describe, expect, it } from 'vitest';
import { chatReducer, initialChatState, sortedConversations, type ChatAction, type ChatState } from './reducer';
import { createOutboxItem } from './outbox';
import { conversation, member, message } from './testdata';

const start = (): ChatState => {
  let s = chatReducer(initialChatState, { kind: 'session.started', meId: 'me', outbox: [] });
  s = chatReducer(s, { kind: 'conversations.loaded', items: [conversation()], replace: true });
  return s;
};
const run = (s: ChatState, ...actions: ChatAction[]) => actions.reduce(chatReducer, s);
const created = (m: ReturnType<typeof message>, cursor = '1'): ChatAction => ({ kind: 'event', event: { type: 'message.created', cursor, message: m } });

describe('chat reducer: messages', () => {
  it('adds a new message, bumps unread and last message', () => {
    const s = run(start(), created(message({ seq: 1 })));
    expect(s.messages.c1!.items.map((m) => m.seq)).toEqual([1]);
    expect(s.conversations.c1!.unread_count).toBe(1);
    expect(s.conversations.c1!.last_message!.id).toBe('m1');
  });

  it('is idempotent: a replayed event changes nothing', () => {
    const once = run(start(), created(message({ seq: 1 })));
    const twice = run(once, created(message({ seq: 1 }), '2'));
    expect(twice.messages.c1!.items).toHaveLength(1);
    expect(twice.conversations.c1!.unread_count).toBe(1);
  });

  it('keeps seq order whatever the arrival order', () => {
    const s = run(start(), created(message({ seq: 3 })), created(message({ seq: 1 })), created(message({ seq: 2 })));
    expect(s.messages.c1!.items.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(s.conversations.c1!.last_seq).toBe(3);
    expect(s.conversations.c1!.last_message!.seq).toBe(3);
  });

  it('my own message does not count as unread and marks the conversation read', () => {
    const s = run(start(), created(message({ seq: 1 })), created(message({ seq: 2, sender_id: 'me' })));
    expect(s.conversations.c1!.unread_count).toBe(0);
    expect(s.conversations.c1!.read_seq).toBe(2);
  });

  it('merges a history page with live messages', () => {
    const s = run(
      start(),
      created(message({ seq: 5 })),
      { kind: 'messages.loaded', conversationId: 'c1', items: [3, 4, 5].map((seq) => message({ seq })), hasMoreBefore: true },
      { kind: 'messages.loaded', conversationId: 'c1', items: [1, 2].map((seq) => message({ seq })), hasMoreBefore: false },
    );
    expect(s.messages.c1!.items.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(s.messages.c1!.hasMoreBefore).toBe(false);
  });

  it('applies edits and recalls, and a stale copy never undoes them', () => {
    const edited = message({ seq: 1, text: 'fixed', edited_at: '2026-11-23T10:02:00Z' });
    const recalled = message({ seq: 1, text: '', recalled: true });
    let s = run(start(), created(message({ seq: 1 })), { kind: 'event', event: { type: 'message.updated', cursor: '2', message: edited } });
    expect(s.messages.c1!.items[0]!.text).toBe('fixed');
    expect(s.conversations.c1!.last_message!.text).toBe('fixed');
    s = run(s, { kind: 'messages.loaded', conversationId: 'c1', items: [message({ seq: 1 })] });
    expect(s.messages.c1!.items[0]!.text).toBe('fixed');
    s = run(s, { kind: 'event', event: { type: 'message.updated', cursor: '3', message: recalled } });
    s = run(s, { kind: 'messages.loaded', conversationId: 'c1', items: [edited] });
    expect(s.messages.c1!.items[0]!.recalled).toBe(true);
  });

  it('burns a message for everyone, and a stale copy never brings it back', () => {
    let s = run(start(), created(message({ seq: 1, text: 'secret', burn_after_s: 10 })));
    s = run(s, { kind: 'event', event: { type: 'message.burned', cursor: '2', conversation_id: 'c1', message_id: 'm1' } });
    expect(s.messages.c1!.items[0]).toMatchObject({ text: '', burned: true });
    expect(s.conversations.c1!.last_message).toMatchObject({ text: '', burned: true });
    s = run(s, { kind: 'messages.loaded', conversationId: 'c1', items: [message({ seq: 1, text: 'secret', burn_after_s: 10 })] });
    expect(s.messages.c1!.items[0]!.text).toBe('');
  });

  it('a sealed frame does not hide the content of my own burn message', () => {
    const mine = message({ seq: 1, sender_id: 'me', text: 'for your eyes', burn_after_s: 10 });
    let s = run(start(), { kind: 'message.stored', message: mine });
    s = run(s, created({ ...mine, text: '' }));
    expect(s.messages.c1!.items[0]!.text).toBe('for your eyes');
  });

  it('removes the outbox item that a message acknowledges', () => {
    const item = createOutboxItem({ conversation_id: 'c1', text: 'hi' }, new Date(), 'uuid-1');
    let s = run(start(), { kind: 'outbox.added', item });
    expect(s.outbox).toHaveLength(1);
    s = run(s, created(message({ seq: 1, sender_id: 'me', client_msg_id: 'uuid-1', text: 'hi' })));
    expect(s.outbox).toHaveLength(0);
    expect(s.messages.c1!.items).toHaveLength(1);
  });
});

describe('chat reducer: conversations and members', () => {
  it('adds conversations from events and sorts by activity', () => {
    const s = run(
      start(),
      { kind: 'event', event: { type: 'conversation.created', cursor: '1', conversation: conversation({ id: 'c2', created_at: '2026-11-23T11:00:00Z' }), member_ids: ['me', 'bob'] } },
      created(message({ seq: 1, created_at: '2026-11-23T12:00:00Z' })),
    );
    expect(sortedConversations(s.conversations, 'o1').map((c) => c.id)).toEqual(['c1', 'c2']);
    expect(sortedConversations(s.conversations, 'other')).toEqual([]);
  });

  it('finds the peer of a new dm from its members', () => {
    const dm = conversation({ id: 'd1', kind: 'dm', title: null, peer_id: null });
    const s = run(start(), { kind: 'event', event: { type: 'conversation.created', cursor: '1', conversation: dm, member_ids: ['bob', 'me'] } });
    expect(s.conversations.d1!.peer_id).toBe('bob');
  });

  it('renames on conversation.updated', () => {
    const s = run(start(), { kind: 'event', event: { type: 'conversation.updated', cursor: '1', conversation_id: 'c1', title: 'New' } });
    expect(s.conversations.c1!.title).toBe('New');
  });

  it('drops a conversation I left', () => {
    const s = run(start(), created(message({ seq: 1 })), { kind: 'event', event: { type: 'member.left', cursor: '2', conversation_id: 'c1', user_id: 'me' } });
    expect(s.conversations.c1).toBeUndefined();
    expect(s.messages.c1).toBeUndefined();
  });

  it('tracks members leaving and joining', () => {
    let s = run(start(), { kind: 'members.loaded', conversationId: 'c1', items: [member('me', 0), member('bob', 0), member('cy', 0)], complete: true });
    s = run(s, { kind: 'event', event: { type: 'member.left', cursor: '1', conversation_id: 'c1', user_id: 'cy' } });
    expect(Object.keys(s.members.c1!.byId).sort()).toEqual(['bob', 'me']);
    expect(s.conversations.c1!.member_count).toBe(2);
    s = run(s, { kind: 'event', event: { type: 'member.joined', cursor: '2', conversation_id: 'c1', user_ids: ['dee'] } });
    expect(s.members.c1!.complete).toBe(false);
    expect(s.conversations.c1!.member_count).toBe(3);
  });
});

describe('chat reducer: receipts', () => {
  it("a member's new message means they have read up to it", () => {
    let s = run(
      start(),
      { kind: 'members.loaded', conversationId: 'c1', items: [member('me', 1), member('bob', 0)], complete: true },
      created(message({ seq: 1, sender_id: 'me', unread_count: 1 })),
      created(message({ seq: 2, sender_id: 'bob' })),
    );
    expect(s.members.c1!.byId.bob!.read_seq).toBe(2);
    expect(s.messages.c1!.items[0]!.unread_count).toBe(0);
    s = run(s, created(message({ seq: 2, sender_id: 'bob' }), '9'));
    expect(s.messages.c1!.items[0]!.unread_count).toBe(0);
  });

  it('my own receipt clears the unread badge', () => {
    let s = run(start(), created(message({ seq: 1 })), created(message({ seq: 2 })));
    expect(s.conversations.c1!.unread_count).toBe(2);
    s = run(s, { kind: 'event', event: { type: 'receipt.updated', cursor: '3', conversation_id: 'c1', receipts: [{ user_id: 'me', from_seq: 0, up_to_seq: 2 }] } });
    expect(s.conversations.c1!.unread_count).toBe(0);
    expect(s.conversations.c1!.read_seq).toBe(2);
  });

  it('a local read moves forward only', () => {
    let s = run(start(), created(message({ seq: 1 })), created(message({ seq: 2 })), { kind: 'read.local', conversationId: 'c1', upToSeq: 2 });
    expect(s.conversations.c1!.unread_count).toBe(0);
    s = run(s, { kind: 'read.local', conversationId: 'c1', upToSeq: 1 });
    expect(s.conversations.c1!.read_seq).toBe(2);
  });

  it("others' receipts lower the unread count of my messages once", () => {
    const mine = (seq: number) => message({ seq, sender_id: 'me', unread_count: 2 });
    let s = run(
      start(),
      { kind: 'members.loaded', conversationId: 'c1', items: [member('me', 2), member('bob', 0), member('cy', 0)], complete: true },
      created(mine(1)),
      created(mine(2)),
    );
    const receipt: ChatAction = { kind: 'event', event: { type: 'receipt.updated', cursor: '3', conversation_id: 'c1', receipts: [{ user_id: 'bob', from_seq: 0, up_to_seq: 1 }] } };
    s = run(s, receipt, receipt);
    expect(s.messages.c1!.items.map((m) => m.unread_count)).toEqual([1, 2]);
    expect(s.members.c1!.byId.bob!.read_seq).toBe(1);
  });
});
