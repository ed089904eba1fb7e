// Burn-after-reading on the client: the seconds a sender may choose, and the reader's countdown.

export const BURN_MIN_S = 5;
export const BURN_MAX_S = 300;
export const BURN_DEFAULT_S = 10;

/** The seconds to send: a whole number within the server's 5–300, or null for nonsense input. */
export function burnSeconds(input: string | number): number | null {
  const n = typeof input === 'number' ? input : Number(input.trim());
  if (!Number.isFinite(n) || (typeof input === 'string' && input.trim() === '')) return null;
  return Math.min(BURN_MAX_S, Math.max(BURN_MIN_S, Math.round(n)));
}

/**
 * Whole seconds the reader has left, rounded up so "0" is shown only once the time is over.
 * Null when the reader's timer has not started (not opened yet, or the sender's own copy).
 */
export function secondsLeft(expiresAt: string | null | undefined, nowMs: number): number | null {
  if (!expiresAt) return null;
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** Milliseconds until the shown number changes next, so a timer ticks on the second boundary. */
export function msUntilNextTick(expiresAt: string, nowMs: number): number {
  const remaining = Date.parse(expiresAt) - nowMs;
  if (remaining <= 0) return 0;
  const intoSecond = remaining % 1000;
  return intoSecond === 0 ? 1000 : intoSecond;
}

/** 7 → "0:07", 75 → "1:15". */
export function clockText(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
