// Read receipts of my own messages: who has read a message and who has not.

import type { ConversationMember, Message } from '../api/types';
import type { ConversationMembers } from '../state/reducer';

export interface ReceiptSummary {
  readIds: string[];
  unreadIds: string[];
  /** Null when unknown: a message from an event (no count) before the member list loaded. */
  unreadCount: number | null;
  /** False when the counts come from the server's number only (no member list yet). */
  detailed: boolean;
}

/**
 * Every current member but the sender counts, as on the server. Newcomers start with
 * read_seq = last_seq, so earlier messages count as read by them.
 */
function countsFor(member: ConversationMember, message: Message): boolean {
  return member.user_id !== message.sender_id;
}

export function receiptSummary(message: Message, members: ConversationMembers | undefined): ReceiptSummary {
  if (members?.complete) {
    const readIds: string[] = [];
    const unreadIds: string[] = [];
    for (const m of Object.values(members.byId)) {
      if (!countsFor(m, message)) continue;
      (m.read_seq >= message.seq ? readIds : unreadIds).push(m.user_id);
    }
    return { readIds, unreadIds, unreadCount: unreadIds.length, detailed: true };
  }
  const unread = message.unread_count == null ? null : Math.max(0, message.unread_count);
  return { readIds: [], unreadIds: [], unreadCount: unread, detailed: false };
}

/** Applies a live receipt to a receipts list fetched from the server. */
export function applyReadTo(
  lists: { read: string[]; unread: string[] },
  userId: string,
  upToSeq: number,
  messageSeq: number,
): { read: string[]; unread: string[] } {
  if (upToSeq < messageSeq || !lists.unread.includes(userId)) return lists;
  return { read: [...lists.read, userId], unread: lists.unread.filter((id) => id !== userId) };
}

export type ReceiptLabel = { key: 'receipt.allRead' } | { key: 'receipt.unread'; count: number };

export function receiptLabel(summary: ReceiptSummary): ReceiptLabel | null {
  if (summary.unreadCount === null) return null;
  return summary.unreadCount === 0 ? { key: 'receipt.allRead' } : { key: 'receipt.unread', count: summary.unreadCount };
}
