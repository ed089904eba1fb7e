"""The group size limit from settings."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from knock.testing import add_people, create_group, create_org, expect, register


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"max_group_members": 4}


async def test_groups_are_bounded_by_the_setting(app: Any, http: httpx.AsyncClient) -> None:
    ann = await register(http, "Ann")
    org_id = await create_org(ann)
    people = await add_people(http, app, org_id, 5)
    ids = [p.id for p in people]
    too_big = await ann.post(
        f"/orgs/{org_id}/conversations", {"kind": "group", "member_ids": ids[:4]}
    )
    assert too_big.status_code == 422
    group = await create_group(ann, org_id, *people[:2])
    refused = await ann.post(f"/conversations/{group}/members", {"user_ids": ids[2:4]})
    assert refused.status_code == 422
    assert expect(await ann.post(f"/conversations/{group}/members", {"user_ids": ids[2:3]}), 200)[
        "added"
    ] == [ids[2]]
    # Already-present ids do not count against the limit.
    assert expect(
        await ann.post(f"/conversations/{group}/members", {"user_ids": ids[:3]}), 200
    ) == {"added": []}
