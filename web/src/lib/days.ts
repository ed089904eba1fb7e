// Splits a message list into days and runs, for day separators and compact grouping.

export interface Timed {
  created_at: string;
  sender_id: string;
}

export type TimelineEntry<T> =
  | { kind: 'day'; key: string; date: Date }
  | { kind: 'item'; item: T; startsRun: boolean; endsRun: boolean };

/** Messages from the same sender within this window read as one run (one name, one avatar). */
export const RUN_WINDOW_MS = 5 * 60 * 1000;

export function dayKey(date: Date): string {
  const y = date.getFullYear();
  const m = String(date.getMonth() + 1).padStart(2, '0');
  const d = String(date.getDate()).padStart(2, '0');
  return `${y}-${m}-${d}`;
}

export function buildTimeline<T extends Timed>(items: readonly T[]): TimelineEntry<T>[] {
  const out: TimelineEntry<T>[] = [];
  let lastDay: string | null = null;
  let prev: T | null = null;
  let prevEntry: { kind: 'item'; item: T; startsRun: boolean; endsRun: boolean } | null = null;
  for (const item of items) {
    const date = new Date(item.created_at);
    const key = dayKey(date);
    let startsRun = true;
    if (key !== lastDay) {
      out.push({ kind: 'day', key, date });
      lastDay = key;
    } else if (prev && prev.sender_id === item.sender_id && date.getTime() - new Date(prev.created_at).getTime() < RUN_WINDOW_MS) {
      startsRun = false;
    }
    if (prevEntry && startsRun) prevEntry.endsRun = true;
    const entry = { kind: 'item' as const, item, startsRun, endsRun: false };
    out.push(entry);
    prev = item;
    prevEntry = entry;
  }
  if (prevEntry) prevEntry.endsRun = true;
  return out;
}

export type DayLabel = { kind: 'today' } | { kind: 'yesterday' } | { kind: 'weekday'; date: Date } | { kind: 'date'; date: Date; withYear: boolean };

export function dayLabel(date: Date, now: Date): DayLabel {
  const startOf = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((startOf(now) - startOf(date)) / 86_400_000);
  if (days === 0) return { kind: 'today' };
  if (days === 1) return { kind: 'yesterday' };
  if (days > 1 && days < 7) return { kind: 'weekday', date };
  return { kind: 'date', date, withYear: date.getFullYear() !== now.getFullYear() };
}
