// The realtime connection: one WebSocket that reconnects by itself and resumes from the last
// cursor it saw, so that nothing is lost or repeated across drops.

import type { ServerEvent, ServerFrame } from '../api/types';
import { backoffDelay, retryAfterDelay, serverBusyForMs } from './backoff';

export type ConnectionStatus = 'connecting' | 'online' | 'offline';

export interface ConnectionHandlers {
  onEvent(event: ServerEvent): void;
  /** The server finished replaying; `first` is true when there was no cursor to resume from. */
  onReady(info: { first: boolean }): void;
  /** Our cursor was too old to replay: state must be refetched over HTTP. */
  onResync(): void;
  onStatus(status: ConnectionStatus): void;
  /** The token was revoked (close 4001). */
  onRevoked(): void;
  /** Called after repeated failed handshakes: a refused token looks like a network error. */
  onRepeatedFailure?(): void;
}

export interface ConnectionOptions {
  url: (cursor: string | null) => string;
  handlers: ConnectionHandlers;
  createSocket?: (url: string) => WebSocket;
  random?: () => number;
  /** No frame at all for this long means the connection is dead (the server pings every 20 s). */
  silenceLimitMs?: number;
}

const PING_EVERY_MS = 25_000;

export class RealtimeConnection {
  private socket: WebSocket | null = null;
  private cursorValue: string | null = null;
  private attempt = 0;
  private status: ConnectionStatus = 'offline';
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private lastFrameAt = 0;
  private stopped = true;
  private readonly options: ConnectionOptions;

  constructor(options: ConnectionOptions) {
    this.options = options;
  }

  get cursor(): string | null {
    return this.cursorValue;
  }

  get currentStatus(): ConnectionStatus {
    return this.status;
  }

  start(cursor: string | null = null): void {
    this.stopped = false;
    this.cursorValue = cursor;
    window.addEventListener('online', this.handleOnline);
    window.addEventListener('offline', this.handleOffline);
    document.addEventListener('visibilitychange', this.handleVisible);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.handleOnline);
    window.removeEventListener('offline', this.handleOffline);
    document.removeEventListener('visibilitychange', this.handleVisible);
    this.clearTimers();
    this.closeSocket();
    this.setStatus('offline');
  }

  /** Reconnect now, forgetting the backoff (the user asked, or the network came back). */
  reconnectNow(): void {
    if (this.stopped) return;
    this.attempt = 0;
    if (this.socket && this.status !== 'offline') return;
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    this.clearTimers();
    this.closeSocket();
    if (typeof navigator !== 'undefined' && navigator.onLine === false) {
      this.setStatus('offline'); // the 'online' event brings us back
      return;
    }
    this.setStatus('connecting');
    const create = this.options.createSocket ?? ((url: string) => new WebSocket(url));
    const hadCursor = this.cursorValue !== null;
    let opened = false;
    let socket: WebSocket;
    try {
      socket = create(this.options.url(this.cursorValue));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      opened = true;
      this.lastFrameAt = Date.now();
      this.pingTimer = setInterval(() => this.keepAlive(), PING_EVERY_MS / 5);
    };
    socket.onmessage = (msg) => {
      if (socket !== this.socket) return;
      this.lastFrameAt = Date.now();
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(msg.data)) as ServerFrame;
      } catch {
        return;
      }
      this.handleFrame(frame, hadCursor);
    };
    socket.onclose = (ev) => {
      if (socket !== this.socket) return;
      this.socket = null;
      if (this.pingTimer) clearInterval(this.pingTimer);
      this.pingTimer = null;
      if (ev.code === 4001) {
        this.stopped = true;
        this.setStatus('offline');
        this.options.handlers.onRevoked();
        return;
      }
      if (!opened && this.attempt > 0 && this.attempt % 3 === 0) this.options.handlers.onRepeatedFailure?.();
      this.scheduleReconnect();
    };
    socket.onerror = () => {
      // onclose follows and decides.
    };
  }

  private handleFrame(frame: ServerFrame, hadCursor: boolean): void {
    switch (frame.type) {
      case 'ready':
        this.cursorValue = frame.cursor;
        this.attempt = 0;
        this.setStatus('online');
        this.options.handlers.onReady({ first: !hadCursor });
        return;
      case 'resync_required':
        this.cursorValue = frame.cursor;
        this.options.handlers.onResync();
        return;
      case 'ping':
      case 'pong':
        return;
      default:
        try {
          this.options.handlers.onEvent(frame);
        } catch (err) {
          console.error('knock: event handler failed', frame.type, err);
        }
        if ('cursor' in frame && frame.cursor) this.cursorValue = frame.cursor;
    }
  }

  private keepAlive(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    const silence = Date.now() - this.lastFrameAt;
    if (silence > (this.options.silenceLimitMs ?? 50_000)) {
      // Half-open TCP: nothing will tell us, so we give up on this socket ourselves.
      this.clearTimers();
      this.closeSocket();
      this.scheduleReconnect();
      return;
    }
    if (silence > PING_EVERY_MS) socket.send('{"type":"ping"}');
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.setStatus(navigator.onLine === false ? 'offline' : 'connecting');
    // A server shedding load said how long to stay away (seen on the HTTP side): honour it.
    const busyMs = serverBusyForMs();
    const delay =
      busyMs > 0
        ? retryAfterDelay(busyMs / 1000, this.attempt++, this.options.random)
        : backoffDelay(this.attempt++, this.options.random);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close(1000);
    } catch {
      // already closed
    }
  }

  private clearTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.reconnectTimer = null;
    this.pingTimer = null;
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.options.handlers.onStatus(status);
  }

  private handleOnline = () => this.reconnectNow();

  private handleOffline = () => {
    // The browser knows before TCP does: drop the socket now and wait for 'online'.
    this.clearTimers();
    this.closeSocket();
    this.setStatus('offline');
  };

  private handleVisible = () => {
    if (document.visibilityState === 'visible' && !this.socket) this.reconnectNow();
  };
}
