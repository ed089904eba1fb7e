"""Who an event goes to: the registry's indexes of live connections."""

from __future__ import annotations

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
