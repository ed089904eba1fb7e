"""The per-person upload rate limit: 429 with Retry-After, held across nodes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import time_machine

from knock.config import Settings
from knock.core.clock import utcnow
from knock.features.media.tests import corpus
from knock.features.media.tests.test_uploads import upload
from knock.main import create_app
from knock.testing import Member, expect, register


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"media_uploads_per_minute": 3}


@pytest.fixture
async def other_node(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second node on the same database, as behind a load balancer."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 50001))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver/api/v1"
        ) as client:
            yield client


def on(node: httpx.AsyncClient, who: Member) -> Member:
    return Member(who.id, who.email, who.token, who.display_name, node)


async def test_uploads_over_the_rate_are_refused_with_retry_after_on_every_node(
    http: httpx.AsyncClient, other_node: httpx.AsyncClient
) -> None:
    ann, bob = await register(http, "Ann"), await register(http, "Bob")
    start = utcnow()
    with time_machine.travel(start, tick=False):
        for node in (http, other_node, http):
            expect(await upload(on(node, ann), corpus.png(), "p.png", "image/png"), 201)
        for node in (http, other_node):
            refused = await upload(on(node, ann), corpus.png(), "p.png", "image/png")
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == "rate_limited"
            assert "3 uploads a minute" in refused.json()["error"]["message"]
            assert refused.headers["retry-after"] == "60"
        # Someone else is not held back by Ann.
        expect(await upload(bob, corpus.png(), "p.png", "image/png"), 201)
    with time_machine.travel(start + timedelta(seconds=45), tick=False):
        refused = await upload(ann, corpus.png(), "p.png", "image/png")
        assert refused.headers["retry-after"] == "15"
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        # The three have left the window: three more, and then a refusal again.
        for _ in range(3):
            expect(await upload(ann, corpus.png(), "p.png", "image/png"), 201)
        assert (await upload(ann, corpus.png(), "p.png", "image/png")).status_code == 429


async def test_a_refused_upload_is_not_read_or_stored(app: Any, http: httpx.AsyncClient) -> None:
    ann = await register(http, "Ann")
    for _ in range(3):
        expect(await upload(ann, corpus.png(), "p.png", "image/png"), 201)
    # Even a body that would be refused for its size answers 429 first: nothing is read.
    huge = await upload(ann, b"\x89PNG" + bytes(2_000_000), "big.png", "image/png")
    assert huge.status_code == 429
    scratch = app.state.node.media.scratch
    assert list(scratch.iterdir()) == []
