// Sends the outbox: in order per conversation, with the same client_msg_id on every try.

import { ApiError } from '../api/http';
import type { Message } from '../api/types';
import { classifyFailure, createOutboxItem, nextToSend, type Draft, type OutboxItem } from './outbox';
import type { ChatStore } from './store';

export type SendFn = (item: OutboxItem) => Promise<Message>;

export class OutboxSender {
  private readonly inFlight = new Set<string>();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(
    private readonly store: ChatStore,
    private readonly send: SendFn,
    private readonly isOnline: () => boolean = () => navigator.onLine !== false,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Adds a composed message and starts sending it. */
  compose(draft: Draft): OutboxItem {
    const item = createOutboxItem(draft, this.now());
    this.store.dispatch({ kind: 'outbox.added', item });
    this.kick();
    return item;
  }

  /** The user asked to try a failed message again. */
  retry(clientMsgId: string): void {
    this.store.dispatch({ kind: 'outbox.status', clientMsgId, status: 'queued' });
    this.kick();
  }

  discard(clientMsgId: string): void {
    this.store.dispatch({ kind: 'outbox.discarded', clientMsgId });
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  /** Sends whatever may go now; call when the network or the connection comes back. */
  kick = (): void => {
    if (this.stopped || !this.isOnline()) return;
    for (const item of nextToSend(this.store.getState().outbox)) {
      if (this.inFlight.has(item.client_msg_id)) continue;
      void this.attempt(item);
    }
  };

  private async attempt(item: OutboxItem): Promise<void> {
    const id = item.client_msg_id;
    this.inFlight.add(id);
    this.store.dispatch({ kind: 'outbox.status', clientMsgId: id, status: 'sending', countAttempt: true });
    try {
      const message = await this.send(item);
      // Stores the message and drops the outbox item it acknowledges (the event may have won).
      this.store.dispatch({ kind: 'message.stored', message });
      this.inFlight.delete(id);
      this.kick();
    } catch (err) {
      this.inFlight.delete(id);
      if (this.stopped) return;
      const current = this.store.getState().outbox.find((i) => i.client_msg_id === id);
      if (!current) return; // acknowledged by its event meanwhile
      const failure = err instanceof ApiError ? err : new ApiError(null, 'network', String(err));
      const verdict = classifyFailure({ status: failure.status, code: failure.code, retryAfterS: failure.retryAfterS }, current.attempts);
      if (verdict.kind === 'fail') {
        this.store.dispatch({ kind: 'outbox.status', clientMsgId: id, status: 'failed', error: verdict.reason });
        return;
      }
      this.store.dispatch({ kind: 'outbox.status', clientMsgId: id, status: 'queued' });
      this.scheduleRetry(verdict.kind === 'retry_after' ? verdict.delayMs : 5_000);
    }
  }

  private scheduleRetry(delayMs: number): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, delayMs);
  }
}
