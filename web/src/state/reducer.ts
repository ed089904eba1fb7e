// Chat state built from HTTP answers and realtime events. Pure: same inputs, same state.
// Every action is idempotent, so an event that arrives twice (a replay after a reconnect,
// or both the POST answer and its event) changes nothing the second time.

import type { Conversation, ConversationMember, Message, ReceiptRange, ServerEvent } from '../api/types';
import { removeAcknowledged, type OutboxItem, type OutboxStatus } from './outbox';

export interface ConversationMessages {
  /** Sorted by seq, no duplicates. */
  items: Message[];
  /** True when older messages than items[0] may exist on the server. */
  hasMoreBefore: boolean;
}

export interface ConversationMembers {
  byId: Record<string, ConversationMember>;
  /** True once the full member list was fetched (receipts are then computed locally). */
  complete: boolean;
}

export interface ChatState {
  meId: string | null;
  conversations: Record<string, Conversation>;
  conversationsLoaded: boolean;
  messages: Record<string, ConversationMessages>;
  members: Record<string, ConversationMembers>;
  outbox: OutboxItem[];
}

export const initialChatState: ChatState = {
  meId: null,
  conversations: {},
  conversationsLoaded: false,
  messages: {},
  members: {},
  outbox: [],
};

export type ChatAction =
  | { kind: 'session.started'; meId: string; outbox: OutboxItem[] }
  | { kind: 'session.ended' }
  | { kind: 'event'; event: ServerEvent }
  | { kind: 'conversations.loaded'; items: Conversation[]; replace: boolean }
  | { kind: 'conversation.loaded'; conversation: Conversation }
  | { kind: 'conversation.removed'; conversationId: string }
  | { kind: 'messages.loaded'; conversationId: string; items: Message[]; hasMoreBefore?: boolean; reset?: boolean }
  | { kind: 'message.stored'; message: Message }
  | { kind: 'members.loaded'; conversationId: string; items: ConversationMember[]; complete: boolean }
  | { kind: 'read.local'; conversationId: string; upToSeq: number }
  | { kind: 'outbox.added'; item: OutboxItem }
  | { kind: 'outbox.status'; clientMsgId: string; status: OutboxStatus; error?: string | null; countAttempt?: boolean }
  | { kind: 'outbox.discarded'; clientMsgId: string };

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.kind) {
    case 'session.started':
      return { ...initialChatState, meId: action.meId, outbox: action.outbox };
    case 'session.ended':
      return initialChatState;
    case 'event':
      return applyEvent(state, action.event);
    case 'conversations.loaded': {
      const conversations: Record<string, Conversation> = action.replace ? {} : { ...state.conversations };
      for (const c of action.items) conversations[c.id] = mergeConversation(state.conversations[c.id], c);
      return { ...state, conversations, conversationsLoaded: true };
    }
    case 'conversation.loaded':
      return {
        ...state,
        conversations: { ...state.conversations, [action.conversation.id]: mergeConversation(state.conversations[action.conversation.id], action.conversation) },
      };
    case 'conversation.removed':
      return removeConversation(state, action.conversationId);
    case 'messages.loaded': {
      const prev = action.reset ? undefined : state.messages[action.conversationId];
      const items = mergeMessages(prev?.items ?? [], action.items);
      const hasMoreBefore =
        action.hasMoreBefore !== undefined && (!prev || action.items.length === 0 || action.items[0]!.seq <= (prev.items[0]?.seq ?? Infinity))
          ? action.hasMoreBefore
          : (prev?.hasMoreBefore ?? true);
      let next: ChatState = { ...state, messages: { ...state.messages, [action.conversationId]: { items, hasMoreBefore } } };
      for (const m of action.items) next = { ...next, outbox: removeAcknowledged(next.outbox, m, next.meId) };
      return next;
    }
    case 'message.stored':
      return storeMessage(state, action.message);
    case 'members.loaded': {
      const prev = state.members[action.conversationId];
      const byId: Record<string, ConversationMember> = { ...(prev?.byId ?? {}) };
      for (const m of action.items) {
        const old = byId[m.user_id];
        byId[m.user_id] = old ? { ...m, read_seq: Math.max(old.read_seq, m.read_seq) } : m;
      }
      return { ...state, members: { ...state.members, [action.conversationId]: { byId, complete: action.complete || (prev?.complete ?? false) } } };
    }
    case 'read.local': {
      const conv = state.conversations[action.conversationId];
      if (!conv || conv.read_seq >= action.upToSeq) return state;
      const unread = action.upToSeq >= conv.last_seq ? 0 : Math.max(0, Math.min(conv.unread_count, conv.last_seq - action.upToSeq));
      return { ...state, conversations: { ...state.conversations, [conv.id]: { ...conv, read_seq: action.upToSeq, unread_count: unread } } };
    }
    case 'outbox.added':
      if (state.outbox.some((i) => i.client_msg_id === action.item.client_msg_id)) return state;
      return { ...state, outbox: [...state.outbox, action.item] };
    case 'outbox.status':
      return {
        ...state,
        outbox: state.outbox.map((i) =>
          i.client_msg_id === action.clientMsgId
            ? { ...i, status: action.status, error: action.error ?? null, attempts: i.attempts + (action.countAttempt ? 1 : 0) }
            : i,
        ),
      };
    case 'outbox.discarded':
      return { ...state, outbox: state.outbox.filter((i) => i.client_msg_id !== action.clientMsgId) };
  }
}

function applyEvent(state: ChatState, event: ServerEvent): ChatState {
  switch (event.type) {
    case 'message.created': {
      // The server counts a sender as having read everything up to their own message.
      const m = event.message;
      const stored = storeMessage(state, m);
      const known = state.members[m.conversation_id]?.byId[m.sender_id];
      if (m.sender_id === state.meId || !known) return stored;
      return applyReceipts(stored, m.conversation_id, [{ user_id: m.sender_id, from_seq: known.read_seq, up_to_seq: m.seq }]);
    }
    case 'message.updated':
      return storeMessage(state, event.message);
    case 'message.burned':
      return burnMessage(state, event.conversation_id, event.message_id);
    case 'album.updated':
      return state; // albums live in the query cache (albums/hooks.ts)
    case 'conversation.created': {
      // The same frame goes to every member, so the peer of a dm is found from member_ids.
      const incoming = event.conversation;
      const peer = incoming.kind === 'dm' && !incoming.peer_id ? (event.member_ids.find((id) => id !== state.meId) ?? null) : incoming.peer_id;
      const old = state.conversations[incoming.id];
      const conversation = mergeConversation(old, { ...incoming, peer_id: old?.peer_id ?? peer });
      return { ...state, conversations: { ...state.conversations, [incoming.id]: conversation } };
    }
    case 'conversation.updated': {
      const conv = state.conversations[event.conversation_id];
      if (!conv) return state;
      return { ...state, conversations: { ...state.conversations, [conv.id]: { ...conv, title: event.title } } };
    }
    case 'member.joined': {
      const conv = state.conversations[event.conversation_id];
      if (!conv) return state;
      const members = state.members[conv.id];
      const fresh = members ? event.user_ids.filter((id) => !members.byId[id]) : event.user_ids;
      // A member list we hold no longer is complete: it lacks the names of the newcomers.
      const nextMembers = members && fresh.length > 0 ? { ...state.members, [conv.id]: { ...members, complete: false } } : state.members;
      return {
        ...state,
        conversations: { ...state.conversations, [conv.id]: { ...conv, member_count: conv.member_count + (members ? fresh.length : 0) } },
        members: nextMembers,
      };
    }
    case 'member.left': {
      if (event.user_id === state.meId) return removeConversation(state, event.conversation_id);
      const conv = state.conversations[event.conversation_id];
      if (!conv) return state;
      const members = state.members[conv.id];
      let nextMembers = state.members;
      let count = conv.member_count;
      if (members?.byId[event.user_id]) {
        const byId = { ...members.byId };
        delete byId[event.user_id];
        nextMembers = { ...state.members, [conv.id]: { ...members, byId } };
        count = Math.max(1, count - 1);
      }
      return { ...state, conversations: { ...state.conversations, [conv.id]: { ...conv, member_count: count } }, members: nextMembers };
    }
    case 'receipt.updated':
      return applyReceipts(state, event.conversation_id, event.receipts);
    case 'call.started':
    case 'call.updated':
    case 'call.ended':
      return state; // calls live in the call controller (app/callSession.ts)
    case 'org.member_joined':
    case 'org.member_updated':
    case 'org.member_removed':
    case 'org.department_created':
    case 'org.department_updated':
      return state; // org data lives in the query cache
    case 'session.revoked':
      return state; // the gateway closes the revoked session's sockets (4001)
    case 'approval.created':
    case 'approval.updated':
    case 'ding.created':
    case 'ding.updated':
      return state; // approvals and DINGs live in the query cache (session.ts)
  }
}

/** A burn-after-reading message is gone for everyone: only its placeholder stays. */
function burnMessage(state: ChatState, conversationId: string, messageId: string): ChatState {
  const burn = (m: Message): Message => ({ ...m, text: '', mentions: [], media: [], burned: true });
  let next = state;
  const list = state.messages[conversationId];
  if (list?.items.some((m) => m.id === messageId)) {
    const items = list.items.map((m) => (m.id === messageId ? burn(m) : m));
    next = { ...next, messages: { ...next.messages, [conversationId]: { ...list, items } } };
  }
  const conv = state.conversations[conversationId];
  if (conv?.last_message?.id === messageId) {
    next = { ...next, conversations: { ...next.conversations, [conversationId]: { ...conv, last_message: burn(conv.last_message) } } };
  }
  return next;
}

function removeConversation(state: ChatState, conversationId: string): ChatState {
  if (!state.conversations[conversationId]) return state;
  const conversations = { ...state.conversations };
  delete conversations[conversationId];
  const messages = { ...state.messages };
  delete messages[conversationId];
  const members = { ...state.members };
  delete members[conversationId];
  return { ...state, conversations, messages, members };
}

/** Keeps the newer of two copies of a conversation's counters (answers and events race). */
function mergeConversation(old: Conversation | undefined, incoming: Conversation): Conversation {
  if (!old) return incoming;
  const newer = incoming.last_seq >= old.last_seq;
  return {
    ...incoming,
    last_seq: Math.max(old.last_seq, incoming.last_seq),
    last_message: newer ? incoming.last_message : old.last_message,
    read_seq: Math.max(old.read_seq, incoming.read_seq),
    unread_count: newer ? incoming.unread_count : old.unread_count,
  };
}

export function mergeMessages(existing: readonly Message[], incoming: readonly Message[]): Message[] {
  if (incoming.length === 0) return existing as Message[];
  const bySeq = new Map<number, Message>();
  for (const m of existing) bySeq.set(m.seq, m);
  for (const m of incoming) {
    const old = bySeq.get(m.seq);
    bySeq.set(m.seq, old ? newerMessage(old, m) : m);
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** Edits and recalls only move forward: a stale copy never undoes them. */
function newerMessage(old: Message, incoming: Message): Message {
  if (old.recalled && !incoming.recalled) return old;
  if (old.burned && !incoming.burned) return old;
  // Frames carry burn messages sealed (no content), the sender's own included: a sealed copy
  // never hides content we already hold (from our POST answer or an open).
  if (isSealed(incoming) && !isSealed(old) && !old.burned && !incoming.burned) return { ...incoming, text: old.text, media: old.media, mentions: old.mentions };
  if (old.edited_at && (!incoming.edited_at || incoming.edited_at < old.edited_at) && !incoming.recalled) return old;
  // The receipt count on our own messages is kept by the freshest source: the lower one.
  const unread =
    old.unread_count != null && incoming.unread_count != null ? Math.min(old.unread_count, incoming.unread_count) : incoming.unread_count ?? old.unread_count;
  return { ...incoming, unread_count: unread };
}

/** A burn-after-reading message whose content this copy does not carry. */
export function isSealed(m: Message): boolean {
  return m.burn_after_s != null && !m.burned && m.text === '' && (m.media?.length ?? 0) === 0;
}

function storeMessage(state: ChatState, message: Message): ChatState {
  const convId = message.conversation_id;
  let next: ChatState = { ...state, outbox: removeAcknowledged(state.outbox, message, state.meId) };
  const list = state.messages[convId];
  // Without a loaded page we still keep the message: the first fetch merges around it. An
  // edit that overtakes its message (replays, pages) is kept too, so the edit wins later.
  const items = mergeMessages(list?.items ?? [], [message]);
  next = { ...next, messages: { ...next.messages, [convId]: { items, hasMoreBefore: list?.hasMoreBefore ?? true } } };
  const conv = state.conversations[convId];
  if (conv) {
    let updated = conv;
    if (message.seq > conv.last_seq) {
      const mine = message.sender_id === state.meId;
      updated = {
        ...conv,
        last_seq: message.seq,
        last_message: message,
        read_seq: mine ? message.seq : conv.read_seq,
        unread_count: mine ? 0 : conv.unread_count + (message.seq > conv.read_seq ? 1 : 0),
      };
    } else if (conv.last_message && conv.last_message.id === message.id) {
      updated = { ...conv, last_message: newerMessage(conv.last_message, message) };
    }
    if (updated !== conv) next = { ...next, conversations: { ...next.conversations, [convId]: updated } };
  }
  return next;
}

function applyReceipts(state: ChatState, conversationId: string, receipts: readonly ReceiptRange[]): ChatState {
  let next = state;
  const conv = state.conversations[conversationId];
  const members = state.members[conversationId];
  let byId = members?.byId;
  for (const r of receipts) {
    if (r.user_id === state.meId && conv) {
      const current = next.conversations[conversationId]!;
      if (r.up_to_seq > current.read_seq) {
        const unread = r.up_to_seq >= current.last_seq ? 0 : Math.max(0, Math.min(current.unread_count, current.last_seq - r.up_to_seq));
        next = { ...next, conversations: { ...next.conversations, [conversationId]: { ...current, read_seq: r.up_to_seq, unread_count: unread } } };
      }
    }
    const member = byId?.[r.user_id];
    if (byId && member && r.up_to_seq > member.read_seq) {
      byId = { ...byId, [r.user_id]: { ...member, read_seq: r.up_to_seq } };
    }
    if (r.user_id !== state.meId) next = decrementOwnUnread(next, conversationId, r, member?.read_seq);
  }
  if (members && byId && byId !== members.byId) next = { ...next, members: { ...next.members, [conversationId]: { ...members, byId } } };
  return next;
}

/**
 * Lowers the server's unread_count on my messages that this reader has now read. When we know
 * the reader's previous position (from the member list) it bounds the range, so a receipt
 * applied twice never counts twice.
 */
function decrementOwnUnread(state: ChatState, conversationId: string, r: ReceiptRange, knownReadSeq: number | undefined): ChatState {
  const list = state.messages[conversationId];
  if (!list) return state;
  const from = Math.max(r.from_seq, knownReadSeq ?? r.from_seq);
  let changed = false;
  const items = list.items.map((m) => {
    if (m.sender_id !== state.meId || m.seq <= from || m.seq > r.up_to_seq || !m.unread_count) return m;
    changed = true;
    return { ...m, unread_count: m.unread_count - 1 };
  });
  return changed ? { ...state, messages: { ...state.messages, [conversationId]: { ...list, items } } } : state;
}

/** Conversations by latest activity, newest first. */
export function sortedConversations(conversations: Record<string, Conversation>, orgId: string | null): Conversation[] {
  return Object.values(conversations)
    .filter((c) => orgId === null || c.org_id === orgId)
    .sort((a, b) => activityTime(b).localeCompare(activityTime(a)));
}

function activityTime(c: Conversation): string {
  return c.last_message?.created_at ?? c.created_at;
}
