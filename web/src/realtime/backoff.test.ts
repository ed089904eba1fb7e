import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay, noteServerBusy, resetServerBusy, retryAfterDelay, serverBusyForMs } from './backoff';

describe('reconnect backoff', () => {
  it('doubles its ceiling with each attempt up to the cap', () => {
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(20, () => 1)).toBe(30_000);
    expect(backoffDelay(1000, () => 1)).toBe(30_000);
  });

  it('jitters over the whole window (full jitter)', () => {
    expect(backoffDelay(3, () => 0)).toBe(0);
    expect(backoffDelay(3, () => 0.5)).toBe(2000);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(3);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(4000);
      seen.add(Math.floor(d / 1000));
    }
    expect(seen.size).toBeGreaterThan(2); // spread, not clustered at one value
  });
});

describe('Retry-After', () => {
  afterEach(() => resetServerBusy());

  it('is the floor, and the jitter spreads retries above it', () => {
    expect(retryAfterDelay(2, 0, () => 0)).toBe(2000);
    expect(retryAfterDelay(2, 0, () => 1)).toBe(4000); // spread over at least the floor again
    expect(retryAfterDelay(1, 5, () => 1)).toBe(1000 + 16_000); // or the backoff ceiling
    for (let i = 0; i < 100; i++) {
      const d = retryAfterDelay(3, 1);
      expect(d).toBeGreaterThanOrEqual(3000);
      expect(d).toBeLessThanOrEqual(6000);
    }
  });

  it('is remembered for the WebSocket, which cannot read it from a refused handshake', () => {
    expect(serverBusyForMs(1_000)).toBe(0);
    noteServerBusy(5, 1_000);
    expect(serverBusyForMs(1_000)).toBe(5_000);
    expect(serverBusyForMs(4_000)).toBe(2_000);
    noteServerBusy(1, 4_000); // a shorter hint does not cut a longer one short
    expect(serverBusyForMs(4_000)).toBe(2_000);
    expect(serverBusyForMs(7_000)).toBe(0);
  });
});
