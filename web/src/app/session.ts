// A signed-in session: the chat store, the realtime connection, the outbox sender and the
// loaders that fill the store over HTTP. Created at sign-in, stopped at sign-out.

import type { QueryClient } from '@tanstack/react-query';
import { albumKeys } from '../albums/api';
import { api } from '../api/endpoints';
import { ApiError } from '../api/http';
import type { ServerEvent, User } from '../api/types';
import { officeKeys } from '../office/hooks';
import { RealtimeConnection, type ConnectionStatus } from '../realtime/connection';
import { loadOutbox, networkFailures, saveOutbox } from '../state/outbox';
import { deleteSnapshot, loadSnapshot, makeSnapshot, restoreActions, saveSnapshot, staleRestored } from '../state/snapshot';
import { OutboxSender } from '../state/sender';
import { ChatStore } from '../state/store';

export const HISTORY_PAGE = 50;

type StatusListener = (status: ConnectionStatus) => void;

export class Session {
  readonly store = new ChatStore();
  readonly sender: OutboxSender;
  private readonly connection: RealtimeConnection;
  private status: ConnectionStatus = 'connecting';
  private readonly statusListeners = new Set<StatusListener>();
  private readonly eventListeners = new Set<(event: ServerEvent) => void>();
  private readonly loadingOlder = new Set<string>();
  private readonly fetchingConversations = new Set<string>();
  private readonly pendingReads = new Map<string, number>();
  private readTimer: ReturnType<typeof setTimeout> | null = null;
  private unsubscribeOutbox: () => void = () => {};
  private unsubscribeSnapshot: () => void = () => {};
  private snapshotTimer: ReturnType<typeof setTimeout> | null = null;
  /** Conversations shown from the device snapshot that the server has not confirmed yet. */
  private restored = new Set<string>();

  constructor(
    readonly token: string,
    readonly me: User,
    private readonly queryClient: QueryClient,
    private readonly onSignedOut: () => void,
  ) {
    this.sender = new OutboxSender(this.store, (item) =>
      api.sendMessage(item.conversation_id, {
        client_msg_id: item.client_msg_id,
        text: item.text,
        reply_to_id: item.reply_to_id,
        mentions: item.mentions,
        type: item.type ?? 'text',
        media_ids: item.media_ids ?? [],
        burn_after_s: item.burn_after_s ?? null,
      }),
    );
    this.connection = new RealtimeConnection({
      url: (cursor) => {
        const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
        const params = new URLSearchParams({ token: this.token });
        if (cursor) params.set('cursor', cursor);
        return `${scheme}://${window.location.host}/api/v1/ws?${params}`;
      },
      handlers: {
        onEvent: (event) => this.handleEvent(event),
        onReady: ({ first }) => {
          if (first) void this.refetchAll();
          for (const id of networkFailures(this.store.getState().outbox)) this.sender.retry(id);
          this.sender.kick();
          if (this.pendingReads.size > 0) this.flushReads();
        },
        onResync: () => void this.refetchAll(),
        onStatus: (status) => {
          this.status = status;
          for (const l of this.statusListeners) l(status);
        },
        onRevoked: () => this.onSignedOut(),
        onRepeatedFailure: () => {
          // A refused token looks like a dropped connection to a browser: ask over HTTP,
          // whose 401 signs us out.
          api.me().catch(() => undefined);
        },
      },
    });
    this.prime();
  }

  /** Fills the store from the device (outbox, snapshot), so the first paint already shows it. */
  private prime(): void {
    this.store.dispatch({ kind: 'session.started', meId: this.me.id, outbox: loadOutbox(localStorage, this.me.id) });
    const snapshot = loadSnapshot(localStorage, this.me.id);
    if (!snapshot) return;
    for (const [key, data] of snapshot.queries ?? []) {
      // updatedAt 0: shown at once, and refetched as soon as the server answers.
      if (this.queryClient.getQueryData(key) === undefined) this.queryClient.setQueryData(key, data, { updatedAt: 0 });
    }
    for (const action of restoreActions(snapshot)) this.store.dispatch(action);
    this.restored = new Set(snapshot.conversations.map((c) => c.id));
  }

  start(): void {
    this.prime();
    this.keepSnapshot();
    let lastOutbox = this.store.getState().outbox;
    this.unsubscribeOutbox = this.store.subscribe(() => {
      const outbox = this.store.getState().outbox;
      if (outbox !== lastOutbox) {
        lastOutbox = outbox;
        saveOutbox(localStorage, this.me.id, outbox);
      }
    });
    window.addEventListener('online', this.sender.kick);
    this.connection.start(null);
  }

  private keepSnapshot(): void {
    const save = () => {
      this.snapshotTimer = null;
      const queries = this.queryClient
        .getQueryCache()
        .findAll()
        .filter((q) => ['orgs', 'orgMembers', 'departments'].includes(String(q.queryKey[0])) && q.state.data !== undefined)
        .map((q): [unknown[], unknown] => [[...q.queryKey], q.state.data]);
      saveSnapshot(localStorage, this.me.id, makeSnapshot(this.store.getState(), queries));
    };
    const schedule = () => {
      if (!this.snapshotTimer) this.snapshotTimer = setTimeout(save, 1000);
    };
    const offStore = this.store.subscribe(schedule);
    const offQueries = this.queryClient.getQueryCache().subscribe((e) => {
      if (e.type === 'updated' && e.action.type === 'success') schedule();
    });
    this.unsubscribeSnapshot = () => {
      offStore();
      offQueries();
    };
  }

  /** Deletes what this session kept on the device (at sign-out). */
  forget(): void {
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    this.snapshotTimer = null;
    this.unsubscribeSnapshot();
    this.unsubscribeOutbox();
    deleteSnapshot(localStorage, this.me.id);
    saveOutbox(localStorage, this.me.id, []);
  }

  stop(): void {
    this.connection.stop();
    this.sender.stop();
    this.unsubscribeOutbox();
    this.unsubscribeSnapshot();
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    this.snapshotTimer = null;
    window.removeEventListener('online', this.sender.kick);
    if (this.readTimer) clearTimeout(this.readTimer);
    this.store.dispatch({ kind: 'session.ended' });
  }

  get connectionStatus(): ConnectionStatus {
    return this.status;
  }

  onStatus(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Every event after the store has taken it (for parts that keep their own state: calls). */
  onEvent(listener: (event: ServerEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  reconnectNow(): void {
    this.connection.reconnectNow();
  }

  // ---- events -------------------------------------------------------------------------------

  private handleEvent(event: ServerEvent): void {
    const state = this.store.getState();
    if (event.type === 'message.created') {
      const convId = event.message.conversation_id;
      const list = state.messages[convId];
      const last = list?.items[list.items.length - 1];
      if (last && event.message.seq > last.seq + 1) void this.fillGap(convId, last.seq);
      if (!state.conversations[convId]) void this.fetchConversation(convId);
    }
    this.store.dispatch({ kind: 'event', event });
    for (const listener of this.eventListeners) listener(event);
    switch (event.type) {
      case 'member.joined':
        if (state.members[event.conversation_id]) void this.loadMembers(event.conversation_id);
        if (!state.conversations[event.conversation_id]) void this.fetchConversation(event.conversation_id);
        break;
      case 'album.updated':
        void this.queryClient.invalidateQueries({ queryKey: albumKeys.all });
        break;
      case 'receipt.updated':
        void this.queryClient.invalidateQueries({ queryKey: ['receipts', event.conversation_id] });
        break;
      case 'org.member_joined':
      case 'org.member_updated':
      case 'org.member_removed':
        if (event.type === 'org.member_removed' && event.user_id === this.me.id) {
          void this.queryClient.invalidateQueries({ queryKey: ['orgs'] });
        }
        void this.queryClient.invalidateQueries({ queryKey: ['orgMembers', event.org_id] });
        break;
      case 'org.department_created':
        void this.queryClient.invalidateQueries({ queryKey: ['departments', event.department.org_id] });
        break;
      case 'approval.created':
      case 'approval.updated':
        // The card in chat and the open detail follow at once; the inboxes refetch.
        this.queryClient.setQueryData(officeKeys.approval(event.approval.id), event.approval);
        void this.queryClient.invalidateQueries({ queryKey: officeKeys.approvals(event.approval.org_id) });
        break;
      case 'ding.created':
        // For a recipient this raises the full-screen alert (it lists my unconfirmed DINGs).
        this.queryClient.setQueryData(officeKeys.ding(event.ding.id), event.ding);
        void this.queryClient.invalidateQueries({ queryKey: officeKeys.dings(event.ding.org_id) });
        break;
      case 'ding.updated':
        // A confirmation or an escalation step: the sender's list shows it live.
        void this.queryClient.invalidateQueries({ queryKey: officeKeys.ding(event.ding_id) });
        void this.queryClient.invalidateQueries({ queryKey: officeKeys.dings(event.org_id) });
        break;
      default:
        break;
    }
  }

  // ---- loaders ------------------------------------------------------------------------------

  async refetchAll(): Promise<void> {
    await this.loadConversations();
    const state = this.store.getState();
    for (const convId of Object.keys(state.messages)) {
      if (!state.conversations[convId]) continue;
      const last = state.messages[convId]!.items.at(-1);
      if (last) await this.fillGap(convId, last.seq);
      else await this.loadLatest(convId);
    }
    void this.queryClient.invalidateQueries();
  }

  async loadConversations(): Promise<void> {
    let before: string | undefined;
    const fetched = new Set<string>();
    for (let page = 0; page < 10; page++) {
      const answer = await api.conversations(before);
      for (const c of answer.items) fetched.add(c.id);
      this.store.dispatch({ kind: 'conversations.loaded', items: answer.items, replace: false });
      if (!answer.next_before) {
        for (const id of staleRestored(this.restored, fetched)) this.store.dispatch({ kind: 'conversation.removed', conversationId: id });
        this.restored.clear();
        return;
      }
      before = answer.next_before;
    }
  }

  async fetchConversation(id: string): Promise<void> {
    if (this.fetchingConversations.has(id)) return;
    this.fetchingConversations.add(id);
    try {
      this.store.dispatch({ kind: 'conversation.loaded', conversation: await api.conversation(id) });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) this.store.dispatch({ kind: 'conversation.removed', conversationId: id });
    } finally {
      this.fetchingConversations.delete(id);
    }
  }

  async loadLatest(conversationId: string): Promise<void> {
    const answer = await api.messages(conversationId, { limit: HISTORY_PAGE });
    this.store.dispatch({ kind: 'messages.loaded', conversationId, items: answer.items, hasMoreBefore: answer.has_more });
  }

  /** Loads the page before the oldest loaded message. Returns false when there is no more. */
  async loadOlder(conversationId: string): Promise<boolean> {
    const list = this.store.getState().messages[conversationId];
    const first = list?.items[0];
    if (!list || !first || !list.hasMoreBefore || first.seq <= 1) {
      if (list && first && first.seq <= 1 && list.hasMoreBefore) {
        this.store.dispatch({ kind: 'messages.loaded', conversationId, items: [], hasMoreBefore: false });
      }
      return false;
    }
    if (this.loadingOlder.has(conversationId)) return true;
    this.loadingOlder.add(conversationId);
    try {
      const answer = await api.messages(conversationId, { before_seq: first.seq, limit: HISTORY_PAGE });
      this.store.dispatch({ kind: 'messages.loaded', conversationId, items: answer.items, hasMoreBefore: answer.has_more });
      return answer.has_more;
    } finally {
      this.loadingOlder.delete(conversationId);
    }
  }

  /** Fetches everything after `afterSeq` (missed while away, or a gap in the live stream). */
  private async fillGap(conversationId: string, afterSeq: number): Promise<void> {
    let after = afterSeq;
    for (let page = 0; page < 20; page++) {
      const answer = await api.messages(conversationId, { after_seq: after, limit: 200 });
      this.store.dispatch({ kind: 'messages.loaded', conversationId, items: answer.items });
      const last = answer.items.at(-1);
      if (!answer.has_more || !last) return;
      after = last.seq;
    }
    // Too far behind: start again from the newest page.
    const latest = await api.messages(conversationId, { limit: HISTORY_PAGE });
    this.store.dispatch({ kind: 'messages.loaded', conversationId, items: latest.items, hasMoreBefore: latest.has_more, reset: true });
  }

  async loadMembers(conversationId: string): Promise<void> {
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const answer = await api.conversationMembers(conversationId, after);
      const complete = !answer.next_after;
      this.store.dispatch({ kind: 'members.loaded', conversationId, items: answer.items, complete });
      if (complete) return;
      after = answer.next_after!;
    }
  }

  /** Marks a conversation read up to `seq`, at once locally and shortly after on the server. */
  markRead(conversationId: string, seq: number): void {
    const conv = this.store.getState().conversations[conversationId];
    if (!conv || seq <= conv.read_seq) return;
    this.store.dispatch({ kind: 'read.local', conversationId, upToSeq: seq });
    this.pendingReads.set(conversationId, Math.max(seq, this.pendingReads.get(conversationId) ?? 0));
    if (this.readTimer) clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => this.flushReads(), 300);
  }

  /** Sends the read positions not yet on the server; kept for the next try if offline. */
  private flushReads(): void {
    this.readTimer = null;
    for (const [conversationId, seq] of this.pendingReads) {
      api.markRead(conversationId, seq).then(
        () => {
          if (this.pendingReads.get(conversationId) === seq) this.pendingReads.delete(conversationId);
        },
        (err: unknown) => {
          if (!(err instanceof ApiError) || !err.isNetwork) this.pendingReads.delete(conversationId);
        },
      );
    }
  }
}
