"""Admission control: under overload Knock refuses work at the door, explicitly and cheaply.

Five limits, all per node (a node knows nothing of its neighbours' load; behind a load
balancer each sheds its own excess, which is what keeps each one's latency bounded):

- **In-flight HTTP requests** (``max_inflight_requests``). Over it, requests wait in a short
  FIFO queue (``max_queued_requests``); a full queue answers 503 at once.
- **In-flight writes** (``max_inflight_writes``; by default a few on SQLite, the pool's size
  on PostgreSQL). Mutating requests (POST, PUT, PATCH, DELETE, but for login, registration
  and uploads, see ``is_write``) pass a gate of their own first, with its own queue under the
  same rules, then count as requests too. SQLite has one writer: without this gate the
  in-flight slots fill with sends that wait seconds inside for the write lock, while the
  excess should have been told at the door to come back. Reads keep the other slots.
- **Queue delay** (CoDel's idea): a queue that empties now and then absorbs a burst, and a
  request may wait up to ``queue_timeout_ms``. A queue that has not been empty for a whole
  interval is standing: arrivals outrun the node, and waiting longer only adds latency to
  the work that gets in. Then a request that waited ``queue_target_ms`` is refused (503),
  so admitted requests stay fast while the excess is told to come back.
- **Message sends per login session** (token bucket, ``send_rate_per_user`` with
  ``send_burst``): 429 with the wait until the next token. Keyed by the bearer token's
  hash, because the user is only known after a database read, and a door check must cost
  nothing; a person's devices have a bucket each.
- **WebSocket handshakes**: at most ``max_connections`` open sockets, and new handshakes
  at ``connect_rate`` a second (burst ``connect_burst``): after an outage every client
  reconnects at once, and each connect costs a token check and a subscription read. Over
  either limit the handshake is refused with HTTP 503.

A 503's ``Retry-After`` grows with the overload: as many seconds as the node refused
requests per request it admitted in the last second, from 1 to ``max_retry_after_s`` (5 by
default). Clients that all retried after one second would come back as the same surge;
spread over the ratio, their retries fit better in the capacity that is there. The cap is
short because a refused client comes back after up to twice the Retry-After (it adds full
jitter) and may be refused a few times: with 30 s, the retries of a 20 s surge went on for
two minutes after it, and the node was not back to normal until they were over.

Every refusal carries ``Retry-After`` (seconds) and the error shape
``{"error": {"code": "overloaded" | "rate_limited", "message": ...}}``; clients back off
with jitter. Nothing is refused after it started: a request that got in runs to its end,
so an answer that says "stored" is always true, and a refused request changed nothing.
``GET /api/v1/health`` is never limited (load balancers must see a busy node as alive).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from knock.config import Settings
from knock.core.errors import error_body
from knock.core.http import SECURITY_HEADERS

# CoDel's interval: how long the queue must stay non-empty before it counts as standing.
STANDING_QUEUE_S = 1.0
# Default write limits (KNOCK_MAX_INFLIGHT_WRITES = 0): see default_inflight_writes.
# 32 on SQLite: concurrent sends share a group commit (core.db), so more in flight means
# bigger groups, not a longer wait on the write lock (a 10x surge: 4 -> 32 took 36 % more
# sends in, admitted p99 1.24 -> 0.94 s, bench/RESULTS.md).
SQLITE_INFLIGHT_WRITES = 32
POSTGRES_INFLIGHT_WRITES = 10  # core.db.Database's pool size
# A socket refused for lack of room will not find any soon: open sockets last long.
CONNECTIONS_FULL_RETRY_S = 5
# Sessions a send bucket is kept for; the oldest (long refilled) are forgotten first.
MAX_SEND_BUCKETS = 100_000
_EXEMPT_PATHS = frozenset({"/api/v1/health"})
_SEND_PATH = re.compile(r"^/api/v1/conversations/[^/]+/messages/?$")

Clock = Callable[[], float]
_Waiter = tuple["asyncio.Future[bool]", float]


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float, at: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, at

    def take(self, at: float) -> float:
        """Take one token: 0 when there was one, else the seconds until there is."""
        self.tokens = min(self.burst, self.tokens + (at - self.stamp) * self.rate)
        self.stamp = at
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class AdmissionStats:
    """What was refused since the node started (for logs and the benchmark)."""

    overloaded: int = 0
    rate_limited: int = 0
    connections_refused: int = 0
    by_reason: collections.Counter[str] = field(default_factory=collections.Counter)


class Gate:
    """An in-flight limit with a FIFO queue in front of it, under CoDel's rule.

    While the queue is standing, nobody waits longer than the target: a slot that frees
    passes over waiters that already waited longer (they are refused), and at most one
    in-flight limit's worth of requests wait (about what the slots serve within the target;
    anyone behind them would be refused after waiting anyway, so they are refused at once,
    which costs far less than a wait with a timer)."""

    def __init__(
        self, max_inflight: int, max_queued: int, target_s: float, timeout_s: float, clock: Clock
    ) -> None:
        self._clock = clock
        self.max_inflight, self.max_queued = max_inflight, max_queued
        self.target_s, self.timeout_s = target_s, timeout_s
        self.inflight = 0
        # Each waiter: (its future, resolved True when handed a slot, False when refused;
        # when it began to wait).
        self._waiters: collections.deque[_Waiter] = collections.deque()
        self._queue_empty_at = clock()

    @property
    def queued(self) -> int:
        return len(self._waiters)

    def queue_standing(self) -> bool:
        if not self._waiters:
            self._queue_empty_at = self._clock()
            return False
        return self._clock() - self._queue_empty_at > STANDING_QUEUE_S

    async def enter(self) -> str | None:
        """Take a slot, waiting in the queue if need be; None when admitted, else why not
        (the caller refuses the request and must not call ``leave``)."""
        if self.inflight < self.max_inflight and not self._waiters:
            self.inflight += 1
            return None
        standing = self.queue_standing()
        bound = min(self.max_queued, self.max_inflight) if standing else self.max_queued
        if len(self._waiters) >= bound:
            return "queue_full"
        waiter: _Waiter = (asyncio.get_running_loop().create_future(), self._clock())
        future = waiter[0]
        self._waiters.append(waiter)
        try:
            admitted = await asyncio.wait_for(
                asyncio.shield(future), self.target_s if standing else self.timeout_s
            )
        except TimeoutError:
            if future.done() and future.result():  # handed a slot as the wait ran out
                return None
            future.cancel()
            return "queue_timeout"
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.result():
                self.leave()  # the slot was handed over; pass it on
            future.cancel()
            raise
        finally:
            self._forget(waiter)
        return None if admitted else "queue_timeout"

    def _forget(self, waiter: _Waiter) -> None:
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)
        if not self._waiters:
            self._queue_empty_at = self._clock()

    def leave(self) -> None:
        """Give the slot to the longest waiter still within the target, or free it."""
        standing = self.queue_standing()
        now = self._clock()
        while self._waiters:
            future, since = self._waiters.popleft()
            if future.done():
                continue
            if standing and now - since > self.target_s:
                future.set_result(False)  # waited past the target in a standing queue
                continue
            future.set_result(True)  # the slot passes on; in-flight stays the same
            if not self._waiters:
                self._queue_empty_at = now
            return
        self._queue_empty_at = now
        self.inflight -= 1


def default_inflight_writes(database_is_sqlite: bool) -> int:
    """Writes in flight when ``KNOCK_MAX_INFLIGHT_WRITES`` is 0: SQLite has one writer, so a
    few (one writing, the others doing their reads and answers meanwhile); PostgreSQL one
    per connection of the pool, which a write holds for its whole transaction."""
    return SQLITE_INFLIGHT_WRITES if database_is_sqlite else POSTGRES_INFLIGHT_WRITES


class Admission:
    """The node's limits and their state; one per process, shared by every request."""

    def __init__(
        self, settings: Settings, clock: Clock = time.monotonic, *, database_is_sqlite: bool = True
    ) -> None:
        self._clock = clock
        queue = (settings.max_queued_requests, settings.queue_target_ms / 1000)
        timeout_s = settings.queue_timeout_ms / 1000
        self.requests = Gate(settings.max_inflight_requests, *queue, timeout_s, clock)
        writes = settings.max_inflight_writes or default_inflight_writes(database_is_sqlite)
        self.writes = Gate(writes, *queue, timeout_s, clock)
        self.max_retry_after_s = settings.max_retry_after_s
        self.send_rate = settings.send_rate_per_user
        self.send_burst = settings.send_burst
        self.max_connections = settings.max_connections
        self.connections = 0
        self._send_buckets: collections.OrderedDict[bytes, TokenBucket] = collections.OrderedDict()
        self._connect_bucket = (
            TokenBucket(settings.connect_rate, settings.connect_burst, clock())
            if settings.connect_rate > 0
            else None
        )
        self.stats = AdmissionStats()
        # Admitted and refused requests in the current and the previous second.
        self._second = int(clock())
        self._counts = [0, 0]
        self._last_counts = [0, 0]

    # HTTP requests -------------------------------------------------------------------

    def _count(self, refused: bool) -> None:
        second = int(self._clock())
        if second != self._second:
            self._last_counts = self._counts if second == self._second + 1 else [0, 0]
            self._counts, self._second = [0, 0], second
        self._counts[refused] += 1

    def retry_after_s(self) -> float:
        """How long a refused client should stay away: as many seconds as the node refused
        requests per request it admitted in the last second, so that the more clients
        knock, the longer they wait and the sooner the retries fit in (1 s to
        ``max_retry_after_s``)."""
        admitted, refused = self._last_counts
        return float(max(1, min(self.max_retry_after_s, refused // max(1, admitted))))

    async def enter(self, write: bool) -> str | None:
        """Admit a request (a write first through the write gate, then like any request
        through the request gate): None when admitted (the caller then calls ``leave``
        with the same ``write``), else why not (the caller answers 503)."""
        if write:
            refused = await self.writes.enter()
            if refused is not None:
                self._count(refused=True)
                return "writes_" + refused
        refused = await self.requests.enter()
        if refused is not None:
            if write:
                self.writes.leave()
            self._count(refused=True)
            return refused
        self._count(refused=False)
        return None

    def leave(self, write: bool) -> None:
        self.requests.leave()
        if write:
            self.writes.leave()

    def take_send(self, token: bytes) -> float:
        """0 when this session may send a message now, else the seconds to wait."""
        if self.send_rate <= 0:
            return 0.0
        key = hashlib.blake2b(token, digest_size=16).digest()
        at = self._clock()
        bucket = self._send_buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(self.send_rate, self.send_burst, at)
            self._send_buckets[key] = bucket
            if len(self._send_buckets) > MAX_SEND_BUCKETS:
                self._send_buckets.popitem(last=False)
        else:
            self._send_buckets.move_to_end(key)
        return bucket.take(at)

    # WebSocket handshakes ------------------------------------------------------------

    def open_connection(self) -> float:
        """0 when a new socket may open (and is counted), else the seconds to wait."""
        if self.connections >= self.max_connections:
            return float(CONNECTIONS_FULL_RETRY_S)
        if self._connect_bucket is not None:
            wait = self._connect_bucket.take(self._clock())
            if wait > 0:
                return wait
        self.connections += 1
        return 0.0

    def close_connection(self) -> None:
        self.connections -= 1

    def note(self, reason: str) -> None:
        self.stats.by_reason[reason] += 1
        if reason == "send_rate":
            self.stats.rate_limited += 1
        elif reason.startswith("ws_"):
            self.stats.connections_refused += 1
        else:
            self.stats.overloaded += 1


_OVERLOADED = "The server is overloaded; try again after Retry-After seconds."
_MESSAGES = {
    "queue_full": _OVERLOADED,
    "queue_timeout": _OVERLOADED,
    "writes_queue_full": _OVERLOADED,
    "writes_queue_timeout": _OVERLOADED,
    "send_rate": "You are sending too fast; try again after Retry-After seconds.",
    "ws_connections": "This server has no room for another connection; try again later.",
    "ws_connect_rate": "Too many connections are opening at once; try again later.",
}
# Refusals are answered outside the framework (and its SecurityHeaders), so they carry the
# same headers themselves; bodies and headers are built once.
_REFUSAL_BODIES = {
    "overloaded": error_body("overloaded", _OVERLOADED),
    "rate_limited": error_body("rate_limited", _MESSAGES["send_rate"]),
}
_REFUSAL_HEADERS = {
    code: [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *SECURITY_HEADERS,
    ]
    for code, body in _REFUSAL_BODIES.items()
}
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Mutating requests that spend their time elsewhere than in the database's writer (hashing
# a password, receiving an upload): in one of the few write slots they would keep sends
# out for that long. They are limited as requests, and their one short write queues inside.
_NOT_WRITES = frozenset({"/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/media"})


def is_write(method: str, path: str) -> bool:
    """Whether a request goes through the write gate: it changes something and most of its
    time is spent in a write transaction."""
    return method in _WRITE_METHODS and path not in _NOT_WRITES


def _retry_after(seconds: float) -> bytes:
    return str(max(1, math.ceil(seconds))).encode()


def _bearer(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return bytes(value)
    return None


class AdmissionControl:
    """ASGI middleware that applies ``Admission`` before anything else runs: it wraps the
    whole framework (``main.KnockApp``), so a refusal costs uvicorn's parse, a header scan
    and one prebuilt response, and never touches the database."""

    def __init__(self, app: ASGIApp, admission: Admission) -> None:
        self.app = app
        self.admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if path in _EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        admission = self.admission
        method: str = scope["method"]
        if method == "POST" and _SEND_PATH.match(path):
            token = _bearer(scope)
            wait = admission.take_send(token) if token else 0.0
            if wait > 0:
                await self._refuse_http(send, 429, "rate_limited", "send_rate", wait)
                return
        write = is_write(method, path)
        refused = await admission.enter(write)
        if refused is not None:
            await self._refuse_http(send, 503, "overloaded", refused, admission.retry_after_s())
            return
        try:
            await self.app(scope, receive, send)
        finally:
            admission.leave(write)

    async def _refuse_http(
        self, send: Send, status: int, code: str, reason: str, wait_s: float
    ) -> None:
        self.admission.note(reason)
        headers = [*_REFUSAL_HEADERS[code], (b"retry-after", _retry_after(wait_s))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": _REFUSAL_BODIES[code]})

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        admission = self.admission
        wait = admission.open_connection()
        if wait == 0:
            try:
                await self.app(scope, receive, send)
            finally:
                admission.close_connection()
            return
        reason = (
            "ws_connections"
            if admission.connections >= admission.max_connections
            else "ws_connect_rate"
        )
        admission.note(reason)
        if "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close", "code": 1013})  # "try again later"
            return
        body = error_body("overloaded", _MESSAGES[reason])
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", _retry_after(wait)),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
