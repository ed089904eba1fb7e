import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/http';
import type { Message } from '../api/types';
import type { OutboxItem } from './outbox';
import { OutboxSender } from './sender';
import { ChatStore } from './store';
import { conversation, message } from './testdata';

function setup(send: (item: OutboxItem) => Promise<Message>, online = () => true) {
  const store = new ChatStore();
  store.dispatch({ kind: 'session.started', meId: 'me', outbox: [] });
  store.dispatch({ kind: 'conversations.loaded', items: [conversation()], replace: true });
  const sender = new OutboxSender(store, send, online, () => new Date('2026-11-23T10:00:00Z'));
  return { store, sender };
}

const flush = () => vi.advanceTimersByTimeAsync(0);
const ack = (item: OutboxItem, seq: number) => message({ seq, sender_id: 'me', client_msg_id: item.client_msg_id, text: item.text });

describe('outbox sender', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
  afterEach(() => vi.useRealTimers());

  it('sends in order, one at a time per conversation', async () => {
    const sent: string[] = [];
    let seq = 0;
    const { store, sender } = setup(async (item) => {
      sent.push(item.text);
      return ack(item, ++seq);
    });
    sender.compose({ conversation_id: 'c1', text: 'one' });
    sender.compose({ conversation_id: 'c1', text: 'two' });
    await vi.runAllTimersAsync();
    expect(sent).toEqual(['one', 'two']);
    expect(store.getState().outbox).toEqual([]);
    expect(store.getState().messages.c1!.items.map((m) => m.text)).toEqual(['one', 'two']);
  });

  it('retries a lost answer with the same client_msg_id, and keeps one message', async () => {
    const ids: string[] = [];
    const { store, sender } = setup(async (item) => {
      ids.push(item.client_msg_id);
      if (ids.length === 1) throw new ApiError(null, 'network', 'connection reset');
      return ack(item, 1);
    });
    sender.compose({ conversation_id: 'c1', text: 'hello' });
    await flush();
    expect(store.getState().outbox[0]!.status).toBe('queued');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
    expect(store.getState().outbox).toEqual([]);
    expect(store.getState().messages.c1!.items).toHaveLength(1);
  });

  it('holds messages while offline and sends them when kicked back online', async () => {
    let online = false;
    const send = vi.fn(async (item: OutboxItem) => ack(item, 1));
    const { store, sender } = setup(send, () => online);
    sender.compose({ conversation_id: 'c1', text: 'from the train' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(send).not.toHaveBeenCalled();
    expect(store.getState().outbox[0]!.status).toBe('queued');
    online = true;
    sender.kick();
    await flush();
    expect(send).toHaveBeenCalledTimes(1);
    expect(store.getState().outbox).toEqual([]);
  });

  it('marks a refused message failed; retry sends it again with the same id', async () => {
    const ids: string[] = [];
    const { store, sender } = setup(async (item) => {
      ids.push(item.client_msg_id);
      if (ids.length === 1) throw new ApiError(422, 'invalid_request', 'text: too long');
      return ack(item, 1);
    });
    const item = sender.compose({ conversation_id: 'c1', text: 'x' });
    await flush();
    expect(store.getState().outbox[0]).toMatchObject({ status: 'failed', error: 'invalid_request' });
    sender.retry(item.client_msg_id);
    await flush();
    expect(ids).toEqual([item.client_msg_id, item.client_msg_id]);
    expect(store.getState().outbox).toEqual([]);
  });

  it('an event that acknowledges the message first ends the retries', async () => {
    const { store, sender } = setup(async () => {
      throw new ApiError(503, 'unavailable', 'busy');
    });
    const item = sender.compose({ conversation_id: 'c1', text: 'hi' });
    await flush();
    store.dispatch({ kind: 'event', event: { type: 'message.created', cursor: '1', message: ack(item, 1) } });
    expect(store.getState().outbox).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(store.getState().messages.c1!.items).toHaveLength(1);
  });
});
