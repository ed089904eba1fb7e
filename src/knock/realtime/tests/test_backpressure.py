"""Backpressure on a live socket: a reader that falls behind, within the queue's bound."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from knock.testing import register

from .conftest import WsOpener, emit_probes
from .test_gateway import frames_until, probes


async def test_a_slow_reader_within_the_queue_gets_every_frame_in_order(
    app: Any, ws: WsOpener, http: httpx.AsyncClient
) -> None:
    """Frames the socket cannot take yet wait in the connection's queue and go out, in
    order and once each, when the client reads again."""
    member = await register(http)
    registry = app.state.node.registry
    async with ws(member.token, max_queue=1, max_size=None, compression=None) as sock:
        await frames_until(sock, lambda f: f["type"] == "ready")
        (conn,) = registry.by_user[member.id]
        # Not reading: 12 MB of frames fill the client's and the kernel's buffers, then
        # the server's transport pauses and frames queue (well under the limit of 1024).
        pad = secrets.token_urlsafe(24_576)
        await emit_probes(app, member.id, range(400), pad=pad)
        queued_while_paused = conn.queue is not None and len(conn.queue) > 0
        frames = await frames_until(sock, lambda f: f.get("n") == 399)
        assert probes(frames) == list(range(400))
        assert queued_while_paused or conn.wire is None
        assert not conn.overflowed
