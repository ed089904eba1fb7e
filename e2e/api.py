"""A few API calls to set up browser tests quickly (the UI paths are tested elsewhere)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "correct horse battery"


@dataclass
class Account:
    id: str
    email: str
    token: str
    name: str


class Api:
    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base + "/api/v1", timeout=30)

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def call(self, who: Account, method: str, path: str, body: Any = None) -> Any:
        answer = self.http.request(
            method, path, json=body, headers={"Authorization": f"Bearer {who.token}"}
        )
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def register(self, name: str) -> Account:
        email = f"{name.lower().replace(' ', '.')}-{uuid.uuid4().hex[:8]}@example.com"
        answer = self.http.post(
            "/auth/register", json={"email": email, "password": PASSWORD, "display_name": name}
        )
        answer.raise_for_status()
        body = answer.json()
        return Account(id=body["user"]["id"], email=email, token=body["token"], name=name)

    def team_with(self, owner: Account, others: list[Account], name: str = "Team") -> str:
        org = self.call(owner, "POST", "/orgs", {"name": name})
        invite = self.call(owner, "POST", f"/orgs/{org['id']}/invites", {})
        for person in others:
            self.call(person, "POST", f"/invites/{invite['code']}/accept")
        return str(org["id"])

    def conversation(
        self, owner: Account, org_id: str, members: list[Account], title: str | None = None
    ) -> str:
        kind = "dm" if len(members) == 1 else "group"
        body = {"kind": kind, "member_ids": [m.id for m in members], "title": title}
        return str(self.call(owner, "POST", f"/orgs/{org_id}/conversations", body)["id"])

    def say(self, who: Account, conversation_id: str, text: str) -> dict[str, Any]:
        body = {"client_msg_id": str(uuid.uuid4()), "text": text}
        return dict(self.call(who, "POST", f"/conversations/{conversation_id}/messages", body))
