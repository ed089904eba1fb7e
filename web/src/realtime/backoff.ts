// Retry delays. Exponential with "full jitter" (a uniformly random delay below the ceiling),
// so that a whole office reconnecting after an outage spreads out instead of knocking on the
// server at the same instant. When the server said how long to wait (Retry-After on a 429 or
// 503), that is the floor and the jitter spreads the returns above it: a thousand clients
// told "1 s" must not all come back at exactly 1 s.

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

function ceilingMs(attempt: number, options: BackoffOptions): number {
  return Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
}

/** Delay before retry number `attempt` (0 = the first retry): uniform in [0, ceiling]. */
export function backoffDelay(attempt: number, random: () => number = Math.random, options: BackoffOptions = DEFAULT_BACKOFF): number {
  return Math.round(random() * ceilingMs(attempt, options));
}

/** Delay before a retry the server asked to wait `retryAfterS` seconds for. */
export function retryAfterDelay(
  retryAfterS: number,
  attempt: number,
  random: () => number = Math.random,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  const floor = Math.max(0, retryAfterS) * 1000;
  return Math.round(floor + random() * Math.max(floor, ceilingMs(attempt, options)));
}

// A browser cannot read the status or headers of a refused WebSocket handshake (it sees
// close 1006), so the last Retry-After the HTTP side heard stands in for it: a server that
// is shedding HTTP requests is not going to welcome a reconnect either.
let busyUntilMs = 0;

/** The server answered 429/503 with Retry-After: remember until when it asked for quiet. */
export function noteServerBusy(retryAfterS: number, now: number = Date.now()): void {
  busyUntilMs = Math.max(busyUntilMs, now + Math.max(0, retryAfterS) * 1000);
}

/** How much longer the server asked for quiet (0 when it did not, or the time is up). */
export function serverBusyForMs(now: number = Date.now()): number {
  return Math.max(0, busyUntilMs - now);
}

/** Forget the hint (tests; a new session). */
export function resetServerBusy(): void {
  busyUntilMs = 0;
}
