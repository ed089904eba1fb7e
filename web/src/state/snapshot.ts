// A small copy of the chat state kept on the device, so the app opens instantly (and offline)
// with the conversations and their latest messages; the server then brings it up to date.
// Signing out deletes it.

import type { Conversation, Message } from '../api/types';
import type { ChatAction, ChatState } from './reducer';

export interface Snapshot {
  version: 1;
  conversations: Conversation[];
  messages: Record<string, Message[]>;
  /** Query-cache entries (teams, members, departments) as [key, data]. */
  queries?: [unknown[], unknown][];
}

const KEY_PREFIX = 'knock.snapshot.';
export const SNAPSHOT_CONVERSATIONS = 30;
export const SNAPSHOT_MESSAGES = 30;

function activity(c: Conversation): string {
  return c.last_message?.created_at ?? c.created_at;
}

/** Burn-after-reading content never touches the disk: the snapshot keeps it sealed. */
function withoutBurnContent(m: Message): Message {
  return m.burn_after_s != null ? { ...m, text: '', mentions: [], media: [] } : m;
}

export function makeSnapshot(state: ChatState, queries: [unknown[], unknown][] = []): Snapshot {
  const conversations = Object.values(state.conversations)
    .sort((a, b) => activity(b).localeCompare(activity(a)))
    .slice(0, SNAPSHOT_CONVERSATIONS)
    .map((c) => (c.last_message ? { ...c, last_message: withoutBurnContent(c.last_message) } : c));
  const messages: Record<string, Message[]> = {};
  for (const c of conversations) {
    const items = state.messages[c.id]?.items;
    if (items?.length) messages[c.id] = items.slice(-SNAPSHOT_MESSAGES).map(withoutBurnContent);
  }
  return { version: 1, conversations, messages, queries };
}

/** The actions that put a snapshot into a fresh state. */
export function restoreActions(snapshot: Snapshot): ChatAction[] {
  const actions: ChatAction[] = [{ kind: 'conversations.loaded', items: snapshot.conversations, replace: false }];
  for (const [conversationId, items] of Object.entries(snapshot.messages)) {
    // Older history is fetched on scroll as usual.
    actions.push({ kind: 'messages.loaded', conversationId, items, hasMoreBefore: (items[0]?.seq ?? 1) > 1 });
  }
  return actions;
}

export function loadSnapshot(storage: Pick<Storage, 'getItem'>, userId: string): Snapshot | null {
  try {
    const raw = storage.getItem(KEY_PREFIX + userId);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Snapshot;
    return parsed.version === 1 && Array.isArray(parsed.conversations) ? parsed : null;
  } catch {
    return null;
  }
}

export function saveSnapshot(storage: Pick<Storage, 'setItem'>, userId: string, snapshot: Snapshot): void {
  try {
    storage.setItem(KEY_PREFIX + userId, JSON.stringify(snapshot));
  } catch {
    // Full or disabled storage: the app still works, it just opens less quickly.
  }
}

export function deleteSnapshot(storage: Pick<Storage, 'removeItem'>, userId: string): void {
  storage.removeItem(KEY_PREFIX + userId);
}

/**
 * After the first full fetch: conversations that came only from the snapshot and that the
 * server no longer lists for us (we left or were removed while away) are dropped.
 */
export function staleRestored(restored: ReadonlySet<string>, fetched: ReadonlySet<string>): string[] {
  return [...restored].filter((id) => !fetched.has(id));
}
