import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetServerBusy, serverBusyForMs } from '../realtime/backoff';
import { ApiError, http } from './http';

// fetch is the edge of the world here: a scripted server answers in turn.
function server(...answers: Array<[number, Record<string, string>, unknown]>) {
  const calls: string[] = [];
  vi.stubGlobal('fetch', async (url: URL, init: RequestInit) => {
    calls.push(`${init.method} ${url.pathname}`);
    const [status, headers, body] = answers.shift() ?? [500, {}, null];
    return new Response(body === null ? null : JSON.stringify(body), { status, headers });
  });
  return calls;
}

const overloaded = { error: { code: 'overloaded', message: 'The server is overloaded.' } };

describe('http and load shedding', () => {
  beforeEach(() => {
    vi.stubGlobal('window', { location: { origin: 'http://knock.test' } });
    vi.useFakeTimers();
    resetServerBusy();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('retries a shed read after Retry-After, with jitter above it', async () => {
    const calls = server([503, { 'Retry-After': '2' }, overloaded], [200, {}, { ok: 1 }]);
    const answer = http<{ ok: number }>('/me');
    await vi.advanceTimersByTimeAsync(1999);
    expect(calls).toHaveLength(1); // not before the server's floor
    await vi.advanceTimersByTimeAsync(2001 + 1); // at most floor + floor of jitter
    await expect(answer).resolves.toEqual({ ok: 1 });
    expect(calls).toEqual(['GET /api/v1/me', 'GET /api/v1/me']);
  });

  it('gives up on a read after a bounded number of retries', async () => {
    const busy: [number, Record<string, string>, unknown] = [503, { 'Retry-After': '1' }, overloaded];
    const calls = server(busy, busy, busy, [200, {}, {}]);
    const answer = http('/me').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(60_000);
    const error = (await answer) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect([error.status, error.code, error.retryAfterS]).toEqual([503, 'overloaded', 1]);
    expect(calls).toHaveLength(3);
  });

  it('hands a shed write back to its caller, and tells the realtime side to stay away', async () => {
    const calls = server([503, { 'Retry-After': '7' }, overloaded]);
    const error = (await http('/conversations/c1/messages', { method: 'POST', body: {} }).catch((e: unknown) => e)) as ApiError;
    expect([error.status, error.retryAfterS]).toEqual([503, 7]);
    expect(calls).toHaveLength(1);
    expect(serverBusyForMs()).toBeGreaterThan(6_000);
  });

  it('does not retry a rate-limited send; its Retry-After reaches the caller', async () => {
    const limited = { error: { code: 'rate_limited', message: 'You are sending too fast.' } };
    server([429, { 'Retry-After': '3' }, limited]);
    const error = (await http('/me').catch((e: unknown) => e)) as ApiError;
    expect([error.status, error.code, error.retryAfterS]).toEqual([429, 'rate_limited', 3]);
    expect(serverBusyForMs()).toBe(0); // one session's limit says nothing about the server
  });
});
