// The HTTP side of the API: JSON in and out, the bearer token, and one error type.

import { noteServerBusy, retryAfterDelay } from '../realtime/backoff';

export class ApiError extends Error {
  constructor(
    readonly status: number | null,
    readonly code: string,
    message: string,
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** True when no answer came: offline, refused, timed out. */
  get isNetwork(): boolean {
    return this.status === null;
  }
}

export interface HttpOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

type TokenSource = () => string | null;

let tokenSource: TokenSource = () => null;
let onUnauthorized: () => void = () => {};

export function configureHttp(options: { token: TokenSource; onUnauthorized: () => void }): void {
  tokenSource = options.token;
  onUnauthorized = options.onUnauthorized;
}

export const API_BASE = '/api/v1';

/** Automatic retries of a read the server shed (503 + Retry-After); writes go back to their
 * caller, which knows whether the request is safe to repeat (the outbox: client_msg_id). */
export const MAX_SHED_RETRIES = 2;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function http<T>(path: string, options: HttpOptions = {}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await httpOnce<T>(path, options);
    } catch (err) {
      const shed = err instanceof ApiError && err.status === 503 && err.retryAfterS !== null;
      const read = (options.method ?? 'GET') === 'GET';
      if (!shed || !read || attempt >= MAX_SHED_RETRIES || options.signal?.aborted) throw err;
      await sleep(retryAfterDelay(err.retryAfterS ?? 1, attempt));
    }
  }
}

async function httpOnce<T>(path: string, options: HttpOptions): Promise<T> {
  const url = new URL(API_BASE + path, window.location.origin);
  for (const [k, v] of Object.entries(options.query ?? {})) {
    if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
  }
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = tokenSource();
  if (token) headers.Authorization = `Bearer ${token}`;
  // A FormData body (an upload) sets its own multipart Content-Type with the boundary.
  const form = options.body instanceof FormData ? options.body : null;
  if (options.body !== undefined && !form) headers['Content-Type'] = 'application/json';

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 15_000);
  options.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      headers,
      body: form ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
      signal: controller.signal,
      credentials: 'omit',
    });
  } catch (err) {
    throw new ApiError(null, 'network', err instanceof Error ? err.message : 'network error');
  } finally {
    clearTimeout(timer);
  }
  if (response.status === 204) return undefined as T;
  let payload: unknown = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (!response.ok) {
    const error = (payload as { error?: { code?: string; message?: string } } | null)?.error;
    const retryAfter = response.headers.get('Retry-After');
    const apiError = new ApiError(
      response.status,
      error?.code ?? `http_${response.status}`,
      error?.message ?? response.statusText,
      retryAfter ? Number(retryAfter) || null : null,
    );
    // Overloaded: the realtime connection must stay away as long (it cannot see this itself).
    if (response.status === 503 && apiError.retryAfterS !== null) noteServerBusy(apiError.retryAfterS);
    if (response.status === 401 && token && path !== '/auth/login') onUnauthorized();
    throw apiError;
  }
  return payload as T;
}
