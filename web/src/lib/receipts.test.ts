import { describe, expect, it } from 'vitest';
import { applyReadTo, receiptLabel, receiptSummary } from './receipts';
import { member, message } from '../state/testdata';

const mine = message({ seq: 5, sender_id: 'me', unread_count: 2, created_at: '2026-11-23T10:05:00Z' });

describe('receipt counting', () => {
  it('counts members who have not read up to the message, never the sender', () => {
    const members = { complete: true, byId: { me: member('me', 5), bob: member('bob', 5), cy: member('cy', 4) } };
    const s = receiptSummary(mine, members);
    expect(s).toEqual({ readIds: ['bob'], unreadIds: ['cy'], unreadCount: 1, detailed: true });
    expect(receiptLabel(s)).toEqual({ key: 'receipt.unread', count: 1 });
  });

  it('says all read when everyone has', () => {
    const members = { complete: true, byId: { me: member('me', 5), bob: member('bob', 9) } };
    expect(receiptLabel(receiptSummary(mine, members))).toEqual({ key: 'receipt.allRead' });
  });

  it('counts newcomers as readers of what came before them', () => {
    const members = { complete: true, byId: { me: member('me', 5), late: member('late', 7, '2026-11-23T11:00:00Z') } };
    expect(receiptSummary(mine, members)).toMatchObject({ readIds: ['late'], unreadCount: 0 });
  });

  it("falls back to the server's count without a full member list", () => {
    expect(receiptSummary(mine, undefined)).toEqual({ readIds: [], unreadIds: [], unreadCount: 2, detailed: false });
    expect(receiptSummary(mine, { complete: false, byId: {} }).unreadCount).toBe(2);
  });

  it('shows nothing while the count is unknown', () => {
    const fromEvent = { ...mine, unread_count: null };
    expect(receiptLabel(receiptSummary(fromEvent, undefined))).toBeNull();
  });

  it('moves a reader from unread to read once', () => {
    const lists = { read: ['a'], unread: ['b', 'c'] };
    const after = applyReadTo(lists, 'b', 5, 5);
    expect(after).toEqual({ read: ['a', 'b'], unread: ['c'] });
    expect(applyReadTo(after, 'b', 6, 5)).toBe(after);
    expect(applyReadTo(after, 'c', 4, 5)).toBe(after);
  });
});
