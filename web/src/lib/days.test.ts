import { describe, expect, it } from 'vitest';
import { buildTimeline, dayLabel } from './days';

const m = (at: string, sender = 'a') => ({ created_at: at, sender_id: sender });

describe('day separators', () => {
  it('puts a separator before the first message of each day', () => {
    const t = buildTimeline([m('2026-11-21T23:59:00Z'), m('2026-11-22T00:01:00Z'), m('2026-11-22T08:00:00Z'), m('2026-11-23T08:00:00Z')]);
    expect(t.map((e) => (e.kind === 'day' ? `day ${e.key}` : 'msg'))).toEqual([
      'day 2026-11-21',
      'msg',
      'day 2026-11-22',
      'msg',
      'msg',
      'day 2026-11-23',
      'msg',
    ]);
  });

  it('groups runs by sender within five minutes', () => {
    const t = buildTimeline([m('2026-11-22T10:00:00Z'), m('2026-11-22T10:04:00Z'), m('2026-11-22T10:10:00Z'), m('2026-11-22T10:11:00Z', 'b')]);
    const items = t.filter((e) => e.kind === 'item');
    expect(items.map((e) => [e.startsRun, e.endsRun])).toEqual([
      [true, false],
      [false, true],
      [true, true],
      [true, true],
    ]);
  });

  it('a new day starts a new run', () => {
    const t = buildTimeline([m('2026-11-22T23:58:00Z'), m('2026-11-23T00:01:00Z')]);
    const items = t.filter((e) => e.kind === 'item');
    expect(items.map((e) => e.startsRun)).toEqual([true, true]);
  });

  it('labels today, yesterday, this week and older days', () => {
    const now = new Date('2026-11-23T15:00:00Z');
    expect(dayLabel(new Date('2026-11-23T01:00:00Z'), now)).toEqual({ kind: 'today' });
    expect(dayLabel(new Date('2026-11-22T23:00:00Z'), now)).toEqual({ kind: 'yesterday' });
    expect(dayLabel(new Date('2026-11-19T10:00:00Z'), now).kind).toBe('weekday');
    expect(dayLabel(new Date('2026-10-01T10:00:00Z'), now)).toMatchObject({ kind: 'date', withYear: false });
    expect(dayLabel(new Date('2025-10-01T10:00:00Z'), now)).toMatchObject({ kind: 'date', withYear: true });
  });
});
