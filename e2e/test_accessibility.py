"""Every main screen passes axe-core's checks (WCAG 2.1 A/AA) with no serious or critical
finding, on a phone and on a desktop, and the keyboard alone can send a message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.api import Account, Api
from e2e.harness import DESKTOP, PHONE, ROOT
from e2e.test_messages import sign_in

pytestmark = pytest.mark.slow

AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture(scope="module")
def people(server: str) -> tuple[Account, Account]:
    with Api(server) as api:
        ann, ben = api.register("Ann Axe"), api.register("Ben Axe")
        org = api.team_with(ann, [ben], "Axe team")
        conv = api.conversation(ann, org, [ben])
        api.say(ben, conv, "Hello **Ann**, see https://example.com")
        api.say(ann, conv, "Hi Ben")
        return ann, ben


@pytest.mark.skipif(not AXE.exists(), reason="web/node_modules not installed")
@pytest.mark.parametrize("layout", ["desktop", "phone"])
def test_main_screens_have_no_serious_accessibility_findings(
    server: str, browser: Browser, people: tuple[Account, Account], layout: str
) -> None:
    ann, _ = people
    # bypass_csp only lets the test inject axe itself; the app runs under its normal CSP otherwise.
    context = browser.new_context(
        viewport=PHONE if layout == "phone" else DESKTOP,
        locale="en-US",
        bypass_csp=True,
        service_workers="block",
    )
    try:
        page = context.new_page()
        page.goto(server + "/login")
        expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
        found = {"sign-in": axe_violations(page)}
        sign_in(page, server, ann)
        found["chats"] = axe_violations(page)
        page.get_by_test_id("conversation-item").first.click()
        expect(page.get_by_test_id("message").last).to_be_visible()
        found["chat"] = axe_violations(page)
        page.goto(server + "/team")
        page.get_by_test_id("team-member").first.wait_for()
        found["team"] = axe_violations(page)
        page.goto(server + "/me")
        page.get_by_role("radiogroup").wait_for()
        found["me"] = axe_violations(page)
        bad = {screen: v for screen, v in found.items() if v}
        assert not bad, json.dumps(bad, indent=1)
    finally:
        context.close()


def test_the_keyboard_alone_can_open_a_chat_and_send(
    server: str, browser: Browser, people: tuple[Account, Account]
) -> None:
    _, ben = people
    context = browser.new_context(viewport=DESKTOP, locale="en-US", service_workers="block")
    try:
        page = context.new_page()
        sign_in(page, server, ben)
        item = page.get_by_test_id("conversation-item").first
        item.focus()
        expect(item).to_be_focused()
        page.keyboard.press("Enter")
        composer = page.get_by_test_id("composer")
        composer.wait_for()
        # Tab from the conversation header reaches the message log, then the composer.
        page.get_by_role("button", name="Conversation info").focus()
        page.keyboard.press("Tab")
        expect(page.get_by_role("log", name="Messages")).to_be_focused()
        for _ in range(12):
            page.keyboard.press("Tab")
            if composer.evaluate("el => el === document.activeElement"):
                break
        expect(composer).to_be_focused()
        page.keyboard.type("Sent with the keyboard")
        page.keyboard.press("Enter")
        expect(
            page.get_by_test_id("message").filter(has_text="Sent with the keyboard")
        ).to_be_visible()
        focus_ring = composer.evaluate("el => getComputedStyle(el.closest('.composer')).boxShadow")
        assert focus_ring != "none"
    finally:
        context.close()
