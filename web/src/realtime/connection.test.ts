import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServerEvent } from '../api/types';
import { noteServerBusy, resetServerBusy } from './backoff';
import { RealtimeConnection, type ConnectionHandlers } from './connection';

class FakeSocket {
  static OPEN = 1;
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  closed = false;
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  frame(frame: object) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.closed = true;
  }
}

const last = () => FakeSocket.all[FakeSocket.all.length - 1]!;
const cursorOf = (s: FakeSocket) => new URL(s.url).searchParams.get('cursor');
const event = (cursor: string): ServerEvent =>
  ({ type: 'member.left', cursor, conversation_id: 'c1', user_id: 'u2' }) as ServerEvent;

function setup() {
  const calls = { events: [] as string[], ready: [] as boolean[], resync: 0, status: [] as string[], revoked: 0 };
  const handlers: ConnectionHandlers = {
    onEvent: (e) => calls.events.push('cursor' in e ? e.cursor : '?'),
    onReady: ({ first }) => calls.ready.push(first),
    onResync: () => calls.resync++,
    onStatus: (s) => calls.status.push(s),
    onRevoked: () => calls.revoked++,
  };
  const conn = new RealtimeConnection({
    url: (cursor) => `ws://knock.test/api/v1/ws?token=t${cursor ? `&cursor=${cursor}` : ''}`,
    handlers,
    createSocket: (url) => new FakeSocket(url) as unknown as WebSocket,
    random: () => 0.5,
  });
  return { conn, calls };
}

describe('realtime connection', () => {
  let online = true;
  beforeEach(() => {
    FakeSocket.all = [];
    online = true;
    vi.useFakeTimers();
    vi.stubGlobal('window', new EventTarget());
    vi.stubGlobal('document', Object.assign(new EventTarget(), { visibilityState: 'visible' }));
    vi.stubGlobal('navigator', {
      get onLine() {
        return online;
      },
    });
    vi.stubGlobal('WebSocket', FakeSocket);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('connects without a cursor first, then resumes from the last one it saw', () => {
    const { conn, calls } = setup();
    conn.start(null);
    expect(cursorOf(last())).toBeNull();
    last().open();
    last().frame({ type: 'ready', cursor: '10' });
    expect(calls.ready).toEqual([true]);
    expect(calls.status.at(-1)).toBe('online');
    last().frame(event('11'));
    last().frame(event('12'));
    expect(calls.events).toEqual(['11', '12']);

    last().drop();
    expect(calls.status.at(-1)).toBe('connecting');
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(cursorOf(last())).toBe('12');
    last().open();
    last().frame(event('13'));
    last().frame({ type: 'ready', cursor: '13' });
    expect(calls.ready).toEqual([true, false]);
    expect(conn.cursor).toBe('13');
    conn.stop();
  });

  it('backs off further with each failed attempt', () => {
    const { conn } = setup();
    conn.start(null);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = FakeSocket.all.length;
      last().drop();
      let waited = 0;
      while (FakeSocket.all.length === before) {
        vi.advanceTimersByTime(50);
        waited += 50;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([250, 500, 1000, 2000]); // random 0.5: half of each doubling ceiling
    conn.stop();
  });

  it('refetches when the cursor is too old', () => {
    const { conn, calls } = setup();
    conn.start('old');
    last().open();
    last().frame({ type: 'resync_required', cursor: '99' });
    expect(calls.resync).toBe(1);
    expect(conn.cursor).toBe('99');
    conn.stop();
  });

  it('waits for the network when the browser goes offline, then reconnects at once', () => {
    const { conn, calls } = setup();
    conn.start(null);
    last().open();
    last().frame({ type: 'ready', cursor: '5' });
    online = false;
    window.dispatchEvent(new Event('offline'));
    expect(last().closed).toBe(true);
    expect(calls.status.at(-1)).toBe('offline');
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    online = true;
    window.dispatchEvent(new Event('online'));
    expect(FakeSocket.all).toHaveLength(2);
    expect(cursorOf(last())).toBe('5');
    conn.stop();
  });

  it('stops for good when the token is revoked', () => {
    const { conn, calls } = setup();
    conn.start(null);
    last().open();
    last().drop(4001);
    expect(calls.revoked).toBe(1);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('gives up on a silent socket and reconnects', () => {
    const { conn } = setup();
    conn.start(null);
    last().open();
    last().frame({ type: 'ready', cursor: '1' });
    vi.advanceTimersByTime(30_000);
    expect(last().sent).toContain('{"type":"ping"}');
    vi.advanceTimersByTime(30_000);
    expect(FakeSocket.all.length).toBeGreaterThan(1);
    conn.stop();
  });

  it('stays away as long as an overloaded server asked over HTTP, then spreads out', () => {
    const { conn } = setup();
    conn.start(null);
    last().open();
    last().frame({ type: 'ready', cursor: '1' });
    noteServerBusy(10); // an HTTP call just got 503 with Retry-After: 10
    last().drop();
    vi.advanceTimersByTime(9_999);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(10_000); // random 0.5: the floor plus half of it
    expect(FakeSocket.all).toHaveLength(2);
    resetServerBusy();
    conn.stop();
  });
});
