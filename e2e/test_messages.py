"""Message features in the browser: history on scroll, replies, mentions, edit and recall,
and the installable app shell."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.api import PASSWORD, Account, Api
from e2e.test_chat import messages_with_text, open_person

pytestmark = pytest.mark.slow


def sign_in(page: Page, base: str, who: Account) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email").fill(who.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main navigation")).to_be_visible()


def test_history_loads_on_scroll_up(server: str, browser: Browser) -> None:
    with Api(server) as api:
        ann, ben, cy = api.register("Ann"), api.register("Ben"), api.register("Cy")
        org = api.team_with(ann, [ben, cy])
        conv = api.conversation(ann, org, [ben, cy], "History")
        for i in range(1, 131):
            api.say(ben if i % 2 else ann, conv, f"Message number {i}")

    person = open_person(browser, "Ann", "desktop")
    try:
        page = person.page
        sign_in(page, server, ann)
        page.get_by_test_id("conversation-item").filter(has_text="History").click()
        bubbles = page.get_by_test_id("messages").get_by_test_id("message")
        expect(messages_with_text(page, "Message number 130")).to_be_visible()
        expect(bubbles).to_have_count(50)
        expect(page.get_by_test_id("messages").get_by_role("separator")).to_have_count(1)  # Today
        log = page.get_by_test_id("messages")
        for _ in range(10):
            log.evaluate("el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
            page.wait_for_timeout(300)
            if bubbles.count() == 130:
                break
        expect(bubbles).to_have_count(130)
        expect(page.get_by_text("This is the beginning of the conversation.")).to_be_visible()
        seqs = [int(s) for s in bubbles.evaluate_all("els => els.map(e => e.dataset.seq)")]
        assert seqs == list(range(1, 131))
    finally:
        person.context.close()


def test_reply_mention_edit_and_recall(server: str, browser: Browser) -> None:
    with Api(server) as api:
        ann, ben, cy = api.register("Ann Lee"), api.register("Ben Ode"), api.register("Cy Ray")
        org = api.team_with(ann, [ben, cy])
        conv = api.conversation(ann, org, [ben, cy], "Plans")
        api.say(ben, conv, "Lunch at noon?")

    a = open_person(browser, "Ann", "desktop")
    b = open_person(browser, "Ben", "phone")
    try:
        sign_in(a.page, server, ann)
        sign_in(b.page, server, ben)
        a.page.get_by_test_id("conversation-item").filter(has_text="Plans").click()
        b.page.get_by_test_id("conversation-item").filter(has_text="Plans").click()

        # Reply to Ben's message from its menu.
        original = a.page.get_by_test_id("message").filter(has_text="Lunch at noon?")
        original.hover()
        original.get_by_role("button", name="Message actions").click()
        a.page.get_by_role("menuitem", name="Reply").click()
        expect(a.page.get_by_text("Replying to Ben Ode")).to_be_visible()

        # Mention Cy with the autocomplete, by keyboard.
        composer = a.page.get_by_test_id("composer")
        composer.fill("Sure, ")
        composer.press_sequentially("@Cy")
        expect(a.page.get_by_role("option", name="Cy Ray")).to_be_visible()
        # On a busy machine the next frame may come late, after the typing has gone on: the
        # pick must not wait for a frame to place the caret (it once moved it back, and this
        # message became "Sure, @Cy Ray  toojoins").
        a.page.evaluate(
            "window.requestAnimationFrame = (cb) => setTimeout(() => cb(performance.now()), 500)"
        )
        composer.press("Enter")
        composer.press_sequentially("joins")
        a.page.evaluate("new Promise((done) => requestAnimationFrame(done))")  # frames come
        composer.press_sequentially(" too")
        composer.press("Enter")

        reply = b.page.get_by_test_id("message").filter(has_text="joins too")
        expect(reply.locator(".reply-quote")).to_contain_text("Lunch at noon?")
        expect(reply.locator(".mention")).to_have_text("@Cy Ray")

        # Edit it; the edit reaches Ben live.
        mine = a.page.get_by_test_id("message").filter(has_text="joins too")
        mine.hover()
        mine.get_by_role("button", name="Message actions").click()
        a.page.get_by_role("menuitem", name="Edit").click()
        expect(a.page.get_by_text("Editing message")).to_be_visible()
        composer.fill("Sure, @Cy Ray joins too at 12:30")
        composer.press("Enter")
        expect(b.page.get_by_test_id("message").filter(has_text="at 12:30")).to_contain_text(
            "edited"
        )

        # Recall it; both sides show the notice instead of the text.
        mine = a.page.get_by_test_id("message").filter(has_text="at 12:30")
        mine.hover()
        mine.get_by_role("button", name="Message actions").click()
        a.page.get_by_role("menuitem", name="Recall").click()
        expect(a.page.get_by_text("You recalled a message")).to_be_visible()
        expect(b.page.get_by_text("Ann Lee recalled a message")).to_be_visible()
        expect(b.page.get_by_text("at 12:30")).to_have_count(0)
    finally:
        a.context.close()
        b.context.close()


def test_the_app_shell_is_installable_and_works_offline(server: str, browser: Browser) -> None:
    with Api(server) as api:
        ann = api.register("Ann Pwa")
        api.team_with(ann, [], "Offline team")
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="en-US")
    try:
        page = context.new_page()
        page.goto(server + "/login")
        manifest = page.locator("link[rel=manifest]").get_attribute("href")
        assert manifest == "/manifest.webmanifest"
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        cached = page.evaluate(
            "caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.keys()))))"
            ".then(lists => lists.flat().map(r => new URL(r.url).pathname))"
        )
        assert "/index.html" in cached
        assert any(re.fullmatch(r"/assets/index-.*\.js", path) for path in cached)
        context.set_offline(True)
        page.reload()
        expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()

        # Signed in and started offline: the shell says so, and never offers to create a team.
        context.set_offline(False)
        sign_in(page, server, ann)
        expect(page.get_by_role("heading", name="Offline team")).to_be_visible()
        page.wait_for_timeout(1500)  # the device snapshot is written within a second
        context.set_offline(True)
        page.reload()
        expect(page.get_by_test_id("offline-banner")).to_be_visible()
        expect(page.get_by_role("button", name="Create team")).to_have_count(0)
        # The team and its conversations come from the device snapshot.
        expect(page.get_by_role("heading", name="Offline team")).to_be_visible()
        context.set_offline(False)
        expect(page.get_by_role("heading", name="Offline team")).to_be_visible(timeout=15_000)
        expect(page.get_by_test_id("offline-banner")).to_be_hidden(timeout=15_000)
    finally:
        context.close()


def test_start_a_group_add_a_member_and_leave(server: str, browser: Browser) -> None:
    with Api(server) as api:
        ann, ben, cy = api.register("Ann Grp"), api.register("Ben Grp"), api.register("Cy Grp")
        api.team_with(ann, [ben, cy], "Groups")

    a = open_person(browser, "Ann", "desktop")
    c = open_person(browser, "Cy", "phone")
    try:
        sign_in(a.page, server, ann)
        sign_in(c.page, server, cy)

        # A new group from the New chat dialog: two people picked make a group.
        a.page.get_by_role("button", name="New chat").first.click()
        dialog = a.page.get_by_role("dialog", name="New chat")
        dialog.get_by_role("button", name="Ben Grp").click()
        dialog.get_by_role("button", name="Cy Grp").click()
        dialog.get_by_label("Group name (optional)").fill("Offsite")
        dialog.get_by_role("button", name="Create group (3)").click()
        expect(a.page.get_by_role("heading", name="Offsite")).to_be_visible()
        expect(
            c.page.get_by_test_id("conversation-item").filter(has_text="Offsite")
        ).to_be_visible()

        # Group info: Cy leaves; Ann sees the member list shrink live.
        a.page.get_by_role("button", name="Conversation info").click()
        panel = a.page.get_by_role("complementary", name="Group info")
        expect(panel.get_by_role("heading", name="Members (3)")).to_be_visible()

        c.page.get_by_test_id("conversation-item").filter(has_text="Offsite").click()
        c.page.get_by_role("button", name="Conversation info").click()
        c.page.once("dialog", lambda d: d.accept())
        c.page.get_by_role("dialog", name="Group info").get_by_role(
            "button", name="Leave group"
        ).click()
        expect(c.page.get_by_test_id("conversation-item").filter(has_text="Offsite")).to_have_count(
            0
        )
        expect(panel.get_by_role("heading", name="Members (2)")).to_be_visible()

        # Ann adds Cy back from the info panel; Cy gets the conversation live.
        panel.get_by_role("button", name="Add members").click()
        picker = a.page.get_by_role("dialog", name="Add members")
        picker.get_by_role("button", name="Cy Grp").click()
        picker.get_by_role("button", name="Add", exact=True).click()
        expect(panel.get_by_role("heading", name="Members (3)")).to_be_visible()
        expect(
            c.page.get_by_test_id("conversation-item").filter(has_text="Offsite")
        ).to_be_visible()
    finally:
        a.context.close()
        c.context.close()


def test_sign_out_forgets_the_device_copy(server: str, browser: Browser) -> None:
    with Api(server) as api:
        ann, ben = api.register("Ann Out"), api.register("Ben Out")
        org = api.team_with(ann, [ben], "Sign-out team")
        api.say(ben, api.conversation(ann, org, [ben]), "A private note")
    person = open_person(browser, "Ann", "phone")
    try:
        page = person.page
        sign_in(page, server, ann)
        expect(page.get_by_test_id("conversation-item")).to_have_count(1)
        # Polled from Python: wait_for_function would eval a string, which the CSP forbids.
        for _ in range(50):
            if page.evaluate(
                "Object.keys(localStorage).some(k => k.startsWith('knock.snapshot.'))"
            ):
                break
            page.wait_for_timeout(100)
        else:
            pytest.fail("no device snapshot was written")
        page.get_by_role("navigation", name="Main navigation").get_by_role(
            "link", name="Me"
        ).click()
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
        keys = page.evaluate("Object.keys(localStorage)")
        assert not [
            k for k in keys if k.startswith(("knock.snapshot.", "knock.token", "knock.outbox."))
        ]
        page.reload()
        expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    finally:
        person.context.close()
