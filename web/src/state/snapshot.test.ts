import { describe, expect, it } from 'vitest';
import { chatReducer, initialChatState, type ChatAction, type ChatState } from './reducer';
import { deleteSnapshot, loadSnapshot, makeSnapshot, restoreActions, saveSnapshot, SNAPSHOT_MESSAGES, staleRestored } from './snapshot';
import { conversation, message } from './testdata';

const started: ChatAction = { kind: 'session.started', meId: 'me', outbox: [] };

function stateWith(messages: number): ChatState {
  const actions: ChatAction[] = [
    started,
    { kind: 'conversations.loaded', items: [conversation(), conversation({ id: 'c2' })], replace: true },
    { kind: 'messages.loaded', conversationId: 'c1', items: Array.from({ length: messages }, (_, i) => message({ seq: i + 1 })), hasMoreBefore: false },
  ];
  return actions.reduce(chatReducer, initialChatState);
}

describe('device snapshot', () => {
  it('keeps the latest messages of each conversation and restores them', () => {
    const snap = makeSnapshot(stateWith(80));
    expect(snap.conversations.map((c) => c.id).sort()).toEqual(['c1', 'c2']);
    expect(snap.messages.c1!.map((m) => m.seq)).toEqual(Array.from({ length: SNAPSHOT_MESSAGES }, (_, i) => 80 - SNAPSHOT_MESSAGES + 1 + i));
    const restored = restoreActions(snap).reduce(chatReducer, chatReducer(initialChatState, started));
    expect(Object.keys(restored.conversations).sort()).toEqual(['c1', 'c2']);
    expect(restored.messages.c1!.items).toHaveLength(SNAPSHOT_MESSAGES);
    expect(restored.messages.c1!.hasMoreBefore).toBe(true);
  });

  it('round-trips through storage and is deleted at sign-out', () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    };
    const snap = makeSnapshot(stateWith(3));
    saveSnapshot(storage, 'me', snap);
    expect(loadSnapshot(storage, 'me')).toEqual(snap);
    expect(loadSnapshot(storage, 'someone-else')).toBeNull();
    deleteSnapshot(storage, 'me');
    expect(loadSnapshot(storage, 'me')).toBeNull();
    store.set('knock.snapshot.me', '{not json');
    expect(loadSnapshot(storage, 'me')).toBeNull();
  });

  it('never writes burn-after-reading content to the device', () => {
    const state = chatReducer(stateWith(2), { kind: 'message.stored', message: message({ seq: 3, text: 'secret', burn_after_s: 30 }) });
    const snap = makeSnapshot(state);
    expect(JSON.stringify(snap)).not.toContain('secret');
    expect(snap.messages.c1!.at(-1)!.text).toBe('');
  });

  it('finds restored conversations the server no longer lists', () => {
    expect(staleRestored(new Set(['c1', 'c2']), new Set(['c2', 'c3']))).toEqual(['c1']);
  });
});
