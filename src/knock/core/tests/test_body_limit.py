"""No request makes the server hold more than BODY_LIMIT bytes of body (uploads excepted:
they stream to disk under their own cap)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx

from knock.core.http import BODY_LIMIT
from knock.testing import create_group, create_org, expect, register

TOO_LARGE = {"error": {"code": "too_large", "message": "A request body may be at most 4096 KiB."}}


def _send(text_bytes: int) -> bytes:
    client_msg_id = uuid.uuid4().hex
    return b'{"client_msg_id":"%s","text":"%s"}' % (client_msg_id.encode(), b"x" * text_bytes)


async def _in_pieces(data: bytes, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_a_body_over_the_limit_is_refused_with_or_without_a_length(
    http: httpx.AsyncClient,
) -> None:
    ann = await register(http, "Ann")
    group = await create_group(ann, await create_org(ann))
    path = f"/conversations/{group}/messages"
    headers = {**ann.auth, "content-type": "application/json"}
    over = _send(BODY_LIMIT)
    sized = await http.post(path, content=over, headers=headers)
    assert (sized.status_code, sized.json()) == (413, TOO_LARGE)
    chunked = await http.post(path, content=_in_pieces(over), headers=headers)
    assert (chunked.status_code, chunked.json()) == (413, TOO_LARGE)
    # Just under the limit, the body is read and judged: the text is too long.
    under = _send(BODY_LIMIT - 100)
    for content in (under, _in_pieces(under)):
        judged = await http.post(path, content=content, headers=headers)
        assert judged.status_code == 422
        assert judged.json()["error"]["code"] == "invalid_request"
    assert expect(await ann.get(path), 200)["items"] == []


async def test_uploads_are_not_held_to_the_json_limit(http: httpx.AsyncClient) -> None:
    ann = await register(http, "Ann")
    junk = b"\x00" * (BODY_LIMIT + 1024 * 1024)
    answer = await http.post(
        "/media", files={"file": ("big.png", junk, "image/png")}, headers=ann.auth
    )
    # Judged by the upload's own rules (it is no image), not refused for its size.
    assert answer.status_code == 415, answer.text
    assert answer.json()["error"]["code"] == "unsupported_media_type"
