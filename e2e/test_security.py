"""The pages the server sends carry a strict CSP, and message text can never become HTML."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, expect

from e2e.test_chat import open_person, send, sign_up

pytestmark = pytest.mark.slow


def test_pages_have_a_strict_csp_and_no_inline_script(server: str) -> None:
    for path in ["/", "/join/some-code", "/c/anything"]:
        answer = httpx.get(server + path)
        assert answer.status_code == 200
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        html = answer.text
        assert "<script>" not in html and "<style" not in html
        assert '<script type="module" crossorigin src="/assets/' in html


def test_pwa_manifest_icons_and_service_worker_are_served(server: str) -> None:
    manifest = httpx.get(server + "/manifest.webmanifest").json()
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert httpx.get(server + icon["src"]).status_code == 200
    sw = httpx.get(server + "/sw.js")
    assert sw.status_code == 200 and "knock-shell-" in sw.text


def test_message_html_is_shown_as_text(server: str, browser: Browser) -> None:
    alice = open_person(browser, "Alice", "desktop")
    try:
        page = alice.page
        sign_up(alice, server)
        page.get_by_label("Team name").fill("Safety")
        page.get_by_role("button", name="Create team").click()
        # A group with only me is not possible; a note to a colleague needs a colleague.
        bob = open_person(browser, "Bob", "desktop")
        try:
            page.get_by_role("button", name="Create invite link").click()
            invite = page.get_by_test_id("invite-url").input_value()
            sign_up(bob, server, path=invite.removeprefix(server))
            bob.page.get_by_role("button", name="Join team").click()
            expect(bob.page.get_by_role("heading", name="No conversations yet")).to_be_visible()
        finally:
            bob.context.close()
        page.get_by_role("button", name="Message Bob").click()
        page.evaluate("window.__pwned = false")
        evil = '<img src=x onerror="window.__pwned=true"> [click](javascript:window.__pwned=true)'
        send(page, evil)
        bubble = page.get_by_test_id("messages").get_by_test_id("message-text").last
        expect(bubble).to_contain_text("<img src=x")
        assert bubble.locator("img").count() == 0
        assert bubble.locator("a").count() == 0
        page.wait_for_timeout(300)
        assert page.evaluate("window.__pwned") is False
        assert alice.problems == []
    finally:
        alice.context.close()
