// The state built from events must not depend on how they arrive: replays after a reconnect
// duplicate them, and an HTTP page may land before or after the live events it overlaps.
import { describe, expect, it } from 'vitest';
import type { Message, ServerEvent } from '../api/types';
import { chatReducer, initialChatState, type ChatAction, type ChatState } from './reducer';
import { conversation, member, message } from './testdata';

function rng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

function shuffled<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const setup: ChatAction[] = [
  { kind: 'session.started', meId: 'me', outbox: [] },
  { kind: 'conversations.loaded', items: [conversation()], replace: true },
  { kind: 'members.loaded', conversationId: 'c1', items: [member('me', 0), member('bob', 0)], complete: true },
];
const base = (): ChatState => setup.reduce(chatReducer, initialChatState);

function history(): { events: ServerEvent[]; final: Message[] } {
  const events: ServerEvent[] = [];
  const final: Message[] = [];
  for (let seq = 1; seq <= 30; seq++) {
    const sender = seq % 3 === 0 ? 'me' : 'bob';
    const m = message({ seq, sender_id: sender });
    events.push({ type: 'message.created', cursor: String(events.length + 1), message: m });
    let last = m;
    if (seq % 5 === 0) {
      last = { ...m, text: `edited ${seq}`, edited_at: `2026-11-23T11:${String(seq).padStart(2, '0')}:00Z` };
      events.push({ type: 'message.updated', cursor: String(events.length + 1), message: last });
    }
    if (seq % 7 === 0) {
      last = { ...last, text: '', recalled: true };
      events.push({ type: 'message.updated', cursor: String(events.length + 1), message: last });
    }
    final.push(last);
  }
  events.push({ type: 'receipt.updated', cursor: 'r', conversation_id: 'c1', receipts: [{ user_id: 'bob', from_seq: 0, up_to_seq: 30 }] });
  return { events, final };
}

describe('convergence', () => {
  it('any order, with duplicates, gives the same messages as the in-order stream', () => {
    const { events, final } = history();
    const inOrder = events.map((event): ChatAction => ({ kind: 'event', event })).reduce(chatReducer, base());
    expect(inOrder.messages.c1!.items.map((m) => [m.seq, m.text, m.recalled])).toEqual(final.map((m) => [m.seq, m.text, m.recalled]));
    for (let seed = 1; seed <= 25; seed++) {
      const random = rng(seed);
      const noisy = shuffled([...events, ...events.filter(() => random() < 0.3)], random);
      const state = noisy.map((event): ChatAction => ({ kind: 'event', event })).reduce(chatReducer, base());
      expect(state.messages.c1!.items).toEqual(inOrder.messages.c1!.items);
      expect(state.conversations.c1!.last_seq).toBe(30);
      expect(state.conversations.c1!.last_message!.id).toBe('m30');
      expect(state.members.c1!.byId.bob!.read_seq).toBe(30);
    }
  });

  it('a fetched page overlapping live events gives the same state as the events alone', () => {
    const { events, final } = history();
    const live = events.map((event): ChatAction => ({ kind: 'event', event })).reduce(chatReducer, base());
    const random = rng(7);
    for (let split = 0; split <= events.length; split += 5) {
      let state = events.slice(0, split).map((event): ChatAction => ({ kind: 'event', event })).reduce(chatReducer, base());
      state = chatReducer(state, { kind: 'messages.loaded', conversationId: 'c1', items: shuffled(final, random), hasMoreBefore: false });
      state = events.slice(split).map((event): ChatAction => ({ kind: 'event', event })).reduce(chatReducer, state);
      expect(state.messages.c1!.items.map((m) => [m.seq, m.text, m.recalled])).toEqual(live.messages.c1!.items.map((m) => [m.seq, m.text, m.recalled]));
    }
  });
});
