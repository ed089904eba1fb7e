import { describe, expect, it } from 'vitest';
import { classifyFailure, createOutboxItem, loadOutbox, MAX_AUTOMATIC_ATTEMPTS, NETWORK_FAILURE, networkFailures, newClientMsgId, nextToSend, removeAcknowledged, saveOutbox, type OutboxItem } from './outbox';
import { message } from './testdata';

const item = (id: string, conv = 'c1', status: OutboxItem['status'] = 'queued'): OutboxItem => ({
  ...createOutboxItem({ conversation_id: conv, text: id }, new Date('2026-11-23T10:00:00Z'), id),
  status,
});

describe('outbox', () => {
  it('makes a v4 UUID as client_msg_id', () => {
    expect(newClientMsgId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newClientMsgId()).not.toBe(newClientMsgId());
  });

  it('sends one message per conversation at a time, oldest first', () => {
    const box = [item('a1'), item('a2'), item('b1', 'c2'), item('c1', 'c3', 'sending'), item('c2', 'c3')];
    expect(nextToSend(box).map((i) => i.client_msg_id)).toEqual(['a1', 'b1']);
  });

  it('a failed message holds later ones back so order is kept', () => {
    expect(nextToSend([item('a1', 'c1', 'failed'), item('a2')])).toEqual([]);
  });

  it('waits for the network when no answer came', () => {
    expect(classifyFailure({ status: null }, 1)).toEqual({ kind: 'wait_for_network' });
  });

  it('shows a network failure after several tries, and requeues it on reconnect', () => {
    const verdict = classifyFailure({ status: null }, MAX_AUTOMATIC_ATTEMPTS);
    expect(verdict).toEqual({ kind: 'fail', reason: NETWORK_FAILURE });
    const failed = { ...item('a1', 'c1', 'failed'), error: NETWORK_FAILURE };
    const refused = { ...item('a2', 'c2', 'failed'), error: 'invalid_request' };
    expect(networkFailures([failed, refused, item('a3')])).toEqual(['a1']);
  });

  it('retries busy answers with backoff and Retry-After, then gives up', () => {
    expect(classifyFailure({ status: 503 }, 1)).toEqual({ kind: 'retry_after', delayMs: 1000 });
    expect(classifyFailure({ status: 503 }, 3)).toEqual({ kind: 'retry_after', delayMs: 4000 });
    expect(classifyFailure({ status: 429, retryAfterS: 10 }, 1)).toEqual({ kind: 'retry_after', delayMs: 10_000 });
    expect(classifyFailure({ status: 500 }, MAX_AUTOMATIC_ATTEMPTS).kind).toBe('fail');
  });

  it('fails at once on a refusal', () => {
    expect(classifyFailure({ status: 422, code: 'invalid_request' }, 1)).toEqual({ kind: 'fail', reason: 'invalid_request' });
    expect(classifyFailure({ status: 409, code: 'client_msg_id_reused' }, 1)).toEqual({ kind: 'fail', reason: 'client_msg_id_reused' });
  });

  it('is acknowledged by the message with its client_msg_id from me only', () => {
    const box = [item('a1'), item('a2')];
    expect(removeAcknowledged(box, message({ seq: 1, client_msg_id: 'a1', sender_id: 'bob' }), 'me')).toBe(box);
    expect(removeAcknowledged(box, message({ seq: 1, client_msg_id: 'a1', sender_id: 'me' }), 'me').map((i) => i.client_msg_id)).toEqual(['a2']);
  });

  it('survives a reload, resending what was in flight with the same id', () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    };
    saveOutbox(storage, 'me', [item('a1', 'c1', 'sending'), item('a2', 'c1', 'failed')]);
    const loaded = loadOutbox(storage, 'me');
    expect(loaded.map((i) => [i.client_msg_id, i.status])).toEqual([
      ['a1', 'queued'],
      ['a2', 'failed'],
    ]);
    saveOutbox(storage, 'me', []);
    expect(store.size).toBe(0);
    expect(loadOutbox(storage, 'nobody')).toEqual([]);
  });
});
