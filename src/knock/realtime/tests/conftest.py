from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from knock.core.events import Audience, Event


class Probe(Event):
    """An event only the tests send, to drive the gateway without other features."""

    type: Literal["test.probe"] = "test.probe"
    n: int
    pad: str = ""


async def emit_probes(app: Any, user_id: str, numbers: range, pad: str = "") -> None:
    for n in numbers:
        async with app.state.node.db.transaction() as txn:
            txn.emit(Probe(n=n, pad=pad), Audience(user_ids=(user_id,)))


WsOpener = Callable[..., AbstractAsyncContextManager[ClientConnection]]


@pytest.fixture
def ws(live: str) -> WsOpener:
    def open_socket(
        token: str | None, cursor: str | None = None, **kw: Any
    ) -> AbstractAsyncContextManager[ClientConnection]:
        query = []
        if token is not None:
            query.append(f"token={token}")
        if cursor is not None:
            query.append(f"cursor={cursor}")
        return websockets.connect(f"ws://{live}/api/v1/ws?{'&'.join(query)}", **kw)

    return open_socket


@pytest.fixture(params=["knock", "asgi"])
async def live(
    app: Any,
    request: pytest.FixtureRequest,
    serve_with_protocol: Callable[[Any, str], AbstractAsyncContextManager[str]],
) -> AsyncIterator[str]:
    """The gateway's tests run on Knock's protocol (pre-framed frames written straight to
    the socket) and on plain uvicorn (every frame an ASGI send)."""
    protocol = (
        "knock.realtime.wire:KnockWebSocketProtocol"
        if request.param == "knock"
        else "websockets-sansio"
    )
    async with serve_with_protocol(app, protocol) as address:
        yield address
