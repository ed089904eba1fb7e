"""Photos and burn-after-reading messages as the web client shows them."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image
from playwright.sync_api import Browser, expect

from e2e.api import Api
from e2e.test_chat import open_person
from e2e.test_messages import sign_in

pytestmark = pytest.mark.slow


def png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (74, 91, 212)).save(out, "PNG")
    return out.getvalue()


def test_photo_and_burn_after_reading(server: str, browser: Browser) -> None:
    with Api(server) as api:
        ann, ben = api.register("Ann Media"), api.register("Ben Media")
        org = api.team_with(ann, [ben], "Media team")
        conv = api.conversation(ann, org, [ben])
        upload = api.http.post(
            "/media",
            files={"file": ("photo.png", png(), "image/png")},
            headers={"Authorization": f"Bearer {ben.token}"},
        )
        upload.raise_for_status()
        photo = {
            "client_msg_id": str(uuid.uuid4()),
            "type": "image",
            "text": "The new banner",
            "media_ids": [upload.json()["id"]],
        }
        api.call(ben, "POST", f"/conversations/{conv}/messages", photo)
        secret = {
            "client_msg_id": str(uuid.uuid4()),
            "text": "The door code is 4711",
            "burn_after_s": 5,
        }
        api.call(ben, "POST", f"/conversations/{conv}/messages", secret)

    person = open_person(browser, "Ann", "desktop")
    try:
        page = person.page
        sign_in(page, server, ann)
        page.get_by_test_id("conversation-item").first.click()
        image = page.get_by_role("img", name="Photo")
        expect(image).to_be_visible()
        assert image.evaluate("img => img.src.startsWith('blob:') && img.naturalWidth > 0")

        # Sealed until opened; then readable until the timer runs out; then gone for good.
        expect(page.get_by_text("The door code is 4711")).to_have_count(0)
        page.get_by_role("button", name="Burn after reading").click()
        log = page.get_by_test_id("messages")
        expect(log.get_by_text("The door code is 4711")).to_be_visible()
        expect(page.get_by_text("The door code is 4711")).to_have_count(1)  # not in the list
        burned = log.get_by_text("This message was burned after reading")
        expect(burned).to_be_visible(timeout=60_000)
        expect(page.get_by_text("The door code is 4711")).to_have_count(0)
        assert person.problems == []
    finally:
        person.context.close()
