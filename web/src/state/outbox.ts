// The outbox: messages composed here that the server has not acknowledged yet.
// Each keeps the client_msg_id made when it was composed, so any number of retries
// (after a timeout, a lost answer, a reconnect or a reload) creates one message at most.

import type { Message } from '../api/types';

export type OutboxStatus = 'sending' | 'queued' | 'failed';
export type MessageType = 'text' | 'image' | 'voice' | 'voice_photo';

/** What a photo or voice message carries besides its text: the media already uploaded. */
export interface MediaDraft {
  type: MessageType;
  media_ids: string[];
}

export interface OutboxItem {
  client_msg_id: string;
  conversation_id: string;
  text: string;
  reply_to_id: string | null;
  mentions: string[];
  /** Absent on items saved by older clients: a text message. */
  type?: MessageType;
  media_ids?: string[];
  burn_after_s?: number | null;
  created_at: string;
  status: OutboxStatus;
  attempts: number;
  error: string | null;
}

export interface Draft {
  conversation_id: string;
  text: string;
  reply_to_id?: string | null;
  mentions?: string[];
  media?: MediaDraft;
  burn_after_s?: number | null;
}

export function newClientMsgId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID();
  }
  // Fallback for insecure contexts (plain http on a LAN address): RFC 4122 v4 from getRandomValues.
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function createOutboxItem(draft: Draft, now: Date, id: string = newClientMsgId()): OutboxItem {
  return {
    client_msg_id: id,
    conversation_id: draft.conversation_id,
    text: draft.text,
    reply_to_id: draft.reply_to_id ?? null,
    mentions: draft.mentions ?? [],
    type: draft.media?.type ?? 'text',
    media_ids: draft.media?.media_ids ?? [],
    burn_after_s: draft.burn_after_s ?? null,
    created_at: now.toISOString(),
    status: 'queued',
    attempts: 0,
    error: null,
  };
}

/** What to do after a send attempt failed. */
export type FailureVerdict =
  | { kind: 'wait_for_network' } // offline or no answer: keep it queued, send when back
  | { kind: 'retry_after'; delayMs: number } // the server is busy: try again on its own
  | { kind: 'fail'; reason: string }; // the server refused it: the user decides (retry button)

export const MAX_AUTOMATIC_ATTEMPTS = 5;
export const NETWORK_FAILURE = 'network';

/** Ids of failed items that failed only for want of a network: worth sending on reconnect. */
export function networkFailures(outbox: readonly OutboxItem[]): string[] {
  return outbox.filter((i) => i.status === 'failed' && i.error === NETWORK_FAILURE).map((i) => i.client_msg_id);
}

export interface SendFailure {
  /** HTTP status, or null when no answer came (network down, timeout, aborted). */
  status: number | null;
  code?: string;
  retryAfterS?: number | null;
}

export function classifyFailure(failure: SendFailure, attempts: number): FailureVerdict {
  if (failure.status === null) {
    // Offline, or the server did not answer. Keep trying quietly for a while, then show the
    // retry button; a reconnect requeues these (see requeueNetworkFailures).
    return attempts < MAX_AUTOMATIC_ATTEMPTS ? { kind: 'wait_for_network' } : { kind: 'fail', reason: NETWORK_FAILURE };
  }
  const retriable = failure.status === 429 || failure.status === 503 || failure.status >= 500 || failure.status === 408;
  if (retriable && attempts < MAX_AUTOMATIC_ATTEMPTS) {
    const hinted = failure.retryAfterS != null ? failure.retryAfterS * 1000 : 0;
    const backoff = Math.min(30_000, 1000 * 2 ** Math.max(0, attempts - 1));
    return { kind: 'retry_after', delayMs: Math.max(hinted, backoff) };
  }
  return { kind: 'fail', reason: failure.code ?? `http_${failure.status}` };
}

/** The items to send now: per conversation, the oldest unsent one, so order is kept. */
export function nextToSend(outbox: readonly OutboxItem[]): OutboxItem[] {
  const blocked = new Set<string>();
  const picked: OutboxItem[] = [];
  for (const item of outbox) {
    if (blocked.has(item.conversation_id)) continue;
    blocked.add(item.conversation_id);
    if (item.status === 'queued') picked.push(item);
    // 'sending' is in flight; 'failed' waits for the user, and holds later messages back
    // so that they never overtake it.
  }
  return picked;
}

/** True when the server's message is the acknowledgement of this outbox item. */
export function acknowledges(message: Message, item: OutboxItem, meId: string | null): boolean {
  return message.client_msg_id === item.client_msg_id && (meId === null || message.sender_id === meId);
}

export function removeAcknowledged(outbox: readonly OutboxItem[], message: Message, meId: string | null): OutboxItem[] {
  const kept = outbox.filter((item) => !acknowledges(message, item, meId));
  return kept.length === outbox.length ? (outbox as OutboxItem[]) : kept;
}

const STORAGE_PREFIX = 'knock.outbox.';

export function loadOutbox(storage: Pick<Storage, 'getItem'>, userId: string): OutboxItem[] {
  try {
    const raw = storage.getItem(STORAGE_PREFIX + userId);
    if (!raw) return [];
    const parsed = JSON.parse(raw) as OutboxItem[];
    // Whatever was in flight when the page closed may or may not have arrived: the same
    // client_msg_id makes sending it again safe.
    return parsed.map((item) => (item.status === 'sending' ? { ...item, status: 'queued' } : item));
  } catch {
    return [];
  }
}

export function saveOutbox(storage: Pick<Storage, 'setItem' | 'removeItem'>, userId: string, outbox: readonly OutboxItem[]): void {
  try {
    if (outbox.length === 0) storage.removeItem(STORAGE_PREFIX + userId);
    else storage.setItem(STORAGE_PREFIX + userId, JSON.stringify(outbox));
  } catch {
    // Storage full or disabled: the outbox still lives in memory.
  }
}
