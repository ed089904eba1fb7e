"""Limits that come from settings: text length and who may mention everyone in a big group."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from knock.testing import create_group, create_org, expect, join_org, register


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"max_text_chars": 20, "mention_all_admin_threshold": 3}


def body(text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"client_msg_id": uuid.uuid4().hex, "text": text, **extra}


async def test_text_is_bounded_by_the_setting(http: httpx.AsyncClient) -> None:
    ann = await register(http, "Ann")
    group = await create_group(ann, await create_org(ann))
    expect(await ann.post(f"/conversations/{group}/messages", body("x" * 20)), 201)
    too_long = await ann.post(f"/conversations/{group}/messages", body("x" * 21))
    assert too_long.status_code == 422
    message = expect(await ann.post(f"/conversations/{group}/messages", body("short")), 201)
    assert (await ann.patch(f"/messages/{message['id']}", {"text": "x" * 21})).status_code == 422


async def test_in_a_big_group_only_the_owner_and_admins_mention_all(
    http: httpx.AsyncClient,
) -> None:
    ann, bob, cat, adm = [await register(http, n) for n in ("Ann", "Bob", "Cat", "Adm")]
    org_id = await create_org(ann)
    await join_org(ann, org_id, bob, cat)
    await join_org(ann, org_id, adm, role="admin")
    small = await create_group(bob, org_id, cat, adm)  # 3 members: not above the threshold
    expect(await cat.post(f"/conversations/{small}/messages", body(mentions=["all"])), 201)

    big = await create_group(bob, org_id, cat, adm, ann)  # 4 members
    refused = await cat.post(f"/conversations/{big}/messages", body(mentions=["all"]))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    expect(await cat.post(f"/conversations/{big}/messages", body(mentions=[bob.id])), 201)
    for allowed in (bob, adm, ann):  # the group owner, an org admin, the org owner
        expect(await allowed.post(f"/conversations/{big}/messages", body(mentions=["all"])), 201)
