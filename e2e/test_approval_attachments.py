"""An expense claim's receipt in a real browser: the approver sees it as a thumbnail in the
approval and opens it full screen (both fetched with the bearer token)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, expect

from e2e.api import Api
from e2e.test_media_burn import png
from e2e.test_office import open_page

pytestmark = pytest.mark.slow
BLOB = re.compile(r"^blob:")


def test_the_approver_sees_the_receipt(server: str, browser: Browser) -> None:
    with Api(server) as api:
        olivia, alice, bob = api.register("Olivia"), api.register("Alice"), api.register("Bob")
        org = api.team_with(olivia, [alice, bob], "Receipts team")
        engineering = api.call(
            olivia, "POST", f"/orgs/{org}/departments", {"name": "Engineering", "head_id": bob.id}
        )
        api.call(
            olivia, "PUT", f"/orgs/{org}/members/{alice.id}", {"department_id": engineering["id"]}
        )
        upload = api.http.post(
            "/media",
            files={"file": ("receipt.png", png(120, 90), "image/png")},
            headers={"Authorization": f"Bearer {alice.token}"},
        )
        upload.raise_for_status()
        templates = api.call(alice, "GET", f"/orgs/{org}/approval-templates")["items"]
        expense = next(t for t in templates if t["builtin"] == "expense")
        body = {
            "template_id": expense["id"],
            "client_request_id": uuid.uuid4().hex,
            "summary": "Taxi to the client",
            "values": {
                "items": [{"description": "Taxi", "amount": "23.40"}],
                "receipts": [upload.json()["id"]],
            },
        }
        api.call(alice, "POST", f"/orgs/{org}/approvals", body)

    b = open_page(browser, server, bob)
    b.goto(server + "/office")
    b.get_by_test_id("approval-row").filter(has_text="Taxi to the client").click()
    receipts = b.get_by_test_id("approval-detail").get_by_test_id("approval-attachments")
    thumb = receipts.get_by_role("img")
    expect(thumb).to_have_count(1)
    expect(thumb).to_have_attribute("src", BLOB)
    # The thumbnail really decoded (a 404 would leave no image, a bad blob a broken one).
    b.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=thumb.element_handle())
    receipts.get_by_role("button", name="Open photo").click()
    viewer = b.get_by_test_id("media-viewer")
    expect(viewer.get_by_role("img")).to_have_attribute("src", BLOB)
