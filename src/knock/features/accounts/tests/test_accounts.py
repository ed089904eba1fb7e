from __future__ import annotations

from typing import Any

import httpx
import pytest

from knock.testing import expect, register


async def test_register_login_me_logout(http: httpx.AsyncClient) -> None:
    body = expect(
        await http.post(
            "/auth/register",
            json={"email": "Ann@Example.com ", "password": "longenough", "display_name": " Ann "},
        ),
        201,
    )
    assert body["user"]["email"] == "ann@example.com"
    assert body["user"]["display_name"] == "Ann"
    token = body["token"]
    assert len(token) >= 43
    me = expect(await http.get("/me", headers={"Authorization": f"Bearer {token}"}), 200)
    assert me["id"] == body["user"]["id"]
    assert me["created_at"].endswith("Z")

    login = expect(
        await http.post("/auth/login", json={"email": "ann@example.com", "password": "longenough"}),
        200,
    )
    second = login["token"]
    assert second != token
    expect(await http.post("/auth/logout", headers={"Authorization": f"Bearer {token}"}), 204)
    revoked = await http.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "unauthorized"
    # Only that login ended; the other token still works.
    expect(await http.get("/me", headers={"Authorization": f"Bearer {second}"}), 200)


async def test_register_twice_is_a_conflict(http: httpx.AsyncClient) -> None:
    payload = {"email": "bob@example.com", "password": "longenough", "display_name": "Bob"}
    expect(await http.post("/auth/register", json=payload), 201)
    again = await http.post("/auth/register", json={**payload, "email": "BOB@example.com"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "email_taken"


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "x@example.com", "password": "short", "display_name": "X"},
        {"email": "not-an-email", "password": "longenough", "display_name": "X"},
        {"email": "x@example.com", "password": "longenough", "display_name": "   "},
        {"email": "x@example.com", "password": "longenough", "display_name": "X" * 65},
        {"email": "x@example.com", "password": "p" * 257, "display_name": "X"},
        {"email": "x@example.com", "password": "longenough", "display_name": "X", "admin": True},
        {"email": "x@example.com", "password": "longenough"},
    ],
)
async def test_register_refuses_bad_input(http: httpx.AsyncClient, payload: dict[str, Any]) -> None:
    response = await http.post("/auth/register", json=payload)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert response.json()["error"]["message"]


async def test_wrong_password_is_401_then_429_with_retry_after(http: httpx.AsyncClient) -> None:
    member = await register(http)
    for _ in range(5):
        response = await http.post("/auth/login", json={"email": member.email, "password": "nope"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_credentials"
    limited = await http.post(
        "/auth/login", json={"email": member.email, "password": "correct horse battery"}
    )
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.json()["error"]["code"] == "rate_limited"


async def test_unknown_email_answers_like_a_wrong_password(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/auth/login", json={"email": "nobody@example.com", "password": "whatever1"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic abc"])
async def test_me_needs_a_valid_token(http: httpx.AsyncClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = await http.get("/me", headers=headers)
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "unauthorized", "message": response.json()["error"]["message"]}
    }
