"""Who an event goes to: the registry's indexes of live connections."""

from __future__ import annotations

from typing import Any, cast

from knock.realtime.registry import Connection, Registry


def connect(registry: Registry, user_id: str, conversations: list[str]) -> Connection:
    conn = Connection(user_id, f"session-{user_id}", max_queue=10)
    registry.add(conn, conversations, ["org1"])
    return conn


def test_a_connection_named_twice_in_an_audience_gets_the_event_once() -> None:
    registry = Registry()
    ann, bea, cal = (connect(registry, u, ["c1"]) for u in ("ann", "bea", "cal"))
    dev = connect(registry, "dev", [])
    found = registry.audience("c1", None, ["ann", "dev"])
    assert sorted(c.user_id for c in found) == ["ann", "bea", "cal", "dev"]
    assert len(found) == 4
    everyone = registry.audience("c1", "org1", ["bea"])
    assert set(everyone) == {ann, bea, cal, dev} and len(everyone) == 4
    assert list(registry.audience(None, None, ["eve"])) == []
    assert list(registry.audience("nobody-here", None, [])) == []


def test_an_audience_is_a_snapshot_that_connections_may_leave_while_it_is_walked() -> None:
    """A push may end its connection (a full queue), which leaves the indexes at once: the
    fan-out goes on to everyone it began with."""
    registry = Registry()
    conns = [connect(registry, f"u{i}", ["c1"]) for i in range(50)]
    for audience in (registry.audience("c1", None, []), registry.audience("c1", "org1", [])):
        visited = []
        for conn in audience:
            visited.append(conn)
            registry.remove(conn)
        assert set(visited) == set(conns) and len(visited) == 50
        for conn in conns:
            registry.add(conn, ["c1"], ["org1"])


class FakeTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return False


class FakeWire:
    """What a connection reads of Knock's protocol once it holds the socket."""

    def __init__(self) -> None:
        self.transport = FakeTransport()
        self.paused = False
        self.closed: list[int] = []

    def detach(self, _conn: Connection) -> bool:
        return True

    def close(self, code: int, _reason: str) -> None:
        self.closed.append(code)


def test_a_live_socket_takes_frames_at_once_and_in_order_through_pauses_and_a_close() -> None:
    """Queued before the hand-over and while paused, written at once otherwise: the socket
    gets every frame once, in order, and nothing after its close."""
    conn = Connection("ann", "s1", max_queue=10)
    wire = FakeWire()
    written = wire.transport.written
    conn.push(1, b"e1")  # the replay is still being sent: it waits
    assert written == [] and not conn.live
    assert conn.live_on(cast(Any, wire))
    assert written == [b"e1"] and conn.live
    conn.push(2, b"e2")
    conn.push(2, b"e2")  # sent already
    assert written == [b"e1", b"e2"]
    conn.writing_paused()
    conn.push(3, b"e3")
    conn.push(0, b"pong")
    assert written == [b"e1", b"e2"] and not conn.live
    conn.writable_again()
    assert written == [b"e1", b"e2", b"e3pong"] and conn.live
    conn.push(4, b"e4")
    assert written[-1] == b"e4"
    conn.close_with(4001)
    conn.push(5, b"e5")
    conn.writable_again()
    assert written == [b"e1", b"e2", b"e3pong", b"e4"] and not conn.live
    assert wire.closed == [4001]
