"""Two people in two browsers: sign up, invite by link, chat live both ways, read receipts,
and a connection drop that loses or doubles nothing, on a desktop and on a phone."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from e2e.harness import DESKTOP, PHONE

pytestmark = pytest.mark.slow

LAYOUTS = {"desktop": DESKTOP, "phone": PHONE}


@dataclass
class Person:
    name: str
    email: str
    context: BrowserContext
    page: Page
    problems: list[str]


def open_person(browser: Browser, name: str, layout: str) -> Person:
    phone = layout == "phone"
    context = browser.new_context(
        viewport=LAYOUTS[layout],
        locale="en-US",
        is_mobile=phone,
        has_touch=phone,
        service_workers="block",
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    problems: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        # Failed requests while we are deliberately offline are expected; CSP reports are not.
        if msg.type == "error" and "Content Security Policy" in msg.text:
            problems.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    return Person(name, email, context, page, problems)


def sign_up(person: Person, base: str, path: str = "/signup") -> None:
    page = person.page
    page.goto(base + path)
    page.get_by_label("Your name").fill(person.name)
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Create account").click()


def go_to(person: Person, section: str) -> None:
    """Chats / Team / Me: the rail on a desktop, the tab bar on a phone."""
    nav = person.page.get_by_role("navigation", name="Main navigation")
    nav.get_by_role("link", name=section, exact=True).click()


def messages_with_text(page: Page, text: str):  # type: ignore[no-untyped-def]
    return (
        page.get_by_test_id("messages")
        .get_by_test_id("message-text")
        .filter(has_text=re.compile(rf"^{re.escape(text)}$"))
    )


def send(page: Page, text: str) -> None:
    composer = page.get_by_test_id("composer")
    composer.fill(text)
    composer.press("Enter")


@pytest.fixture(params=["desktop", "phone"])
def pair(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[Person, Person, str]]:
    layout: str = request.param
    alice = open_person(browser, "Alice", layout)
    bob = open_person(browser, "Bob", layout)
    yield alice, bob, layout
    for person in (alice, bob):
        person.context.close()
    assert alice.problems == [] and bob.problems == [], (alice.problems, bob.problems)


def test_two_people_chat_live_with_receipts_and_a_connection_drop(
    server: str, pair: tuple[Person, Person, str]
) -> None:
    alice, bob, layout = pair
    a, b = alice.page, bob.page

    # Alice signs up and creates a team; it opens on the team page with the invite card.
    sign_up(alice, server)
    a.get_by_label("Team name").fill(f"Acme {layout}")
    a.get_by_role("button", name="Create team").click()
    a.get_by_role("button", name="Create invite link").click()
    invite_url = a.get_by_test_id("invite-url").input_value()
    assert re.fullmatch(rf"{re.escape(server)}/join/[^/]+", invite_url)
    a.get_by_role("button", name="Copy link").click()
    expect(a.get_by_role("button", name="Copied")).to_be_visible()
    assert a.evaluate("navigator.clipboard.readText()") == invite_url

    # Bob opens the link without an account: signs up, then joins the team.
    bob.page.goto(invite_url)
    expect(b.get_by_text("been invited to a team")).to_be_visible()
    sign_up(bob, server, path=invite_url.removeprefix(server))
    expect(b.get_by_role("heading", name=f"Acme {layout}")).to_be_visible()
    b.get_by_role("button", name="Join team").click()
    expect(b.get_by_role("heading", name="No conversations yet")).to_be_visible()

    # Alice sees Bob among the members (live) and starts a direct message.
    expect(a.get_by_test_id("team-member").filter(has_text="Bob")).to_be_visible()
    a.get_by_role("button", name="Message Bob").click()
    expect(a.get_by_role("heading", name="Bob")).to_be_visible()
    send(a, "Hello **Bob**, welcome aboard")
    expect(messages_with_text(a, "Hello Bob, welcome aboard")).to_have_count(1)
    expect(a.get_by_test_id("receipt").last).to_have_text("1 unread")

    # Bob gets the conversation live with an unread badge, opens it, and the receipt flips.
    item = b.get_by_test_id("conversation-item").filter(has_text="Alice")
    expect(item.get_by_test_id("unread-badge")).to_contain_text("1")
    item.click()
    expect(messages_with_text(b, "Hello Bob, welcome aboard")).to_have_count(1)
    expect(b.locator("strong", has_text="Bob")).to_be_visible()  # markdown rendered
    expect(a.get_by_test_id("receipt").last).to_have_text("All read")

    # And back the other way, live.
    send(b, "Hi Alice! Glad to be here")
    expect(messages_with_text(a, "Hi Alice! Glad to be here")).to_have_count(1)

    # The receipt details list who has read it.
    a.get_by_test_id("receipt").first.click()
    dialog = a.get_by_role("dialog", name="Message receipts")
    expect(dialog.get_by_test_id("receipt-read-list")).to_contain_text("Bob")
    dialog.get_by_role("button", name="Close").click()

    # Bob drops off the network. He sees the banner; what he types waits for the network.
    bob.context.set_offline(True)
    expect(b.get_by_test_id("offline-banner")).to_be_visible()
    away = [f"While you were away {i}" for i in range(1, 4)]
    for text in away:
        send(a, text)
    for text in away:
        expect(messages_with_text(a, text)).to_have_count(1)
    # Acknowledged, not just shown: otherwise Bob's message may be stored before the last
    # of them, and the order below would rightly differ.
    expect(a.get_by_test_id("pending-message")).to_have_count(0)
    send(b, "Typed on the train")
    expect(
        b.get_by_test_id("pending-message").filter(has_text="Typed on the train")
    ).to_be_visible()
    expect(messages_with_text(a, "Typed on the train")).to_have_count(0)

    # Back online: he resumes from his cursor; everything arrives once, in order, both ways.
    bob.context.set_offline(False)
    expect(b.get_by_test_id("offline-banner")).to_be_hidden(timeout=15_000)
    for text in away:
        expect(messages_with_text(b, text)).to_have_count(1, timeout=15_000)
    expect(messages_with_text(a, "Typed on the train")).to_have_count(1, timeout=15_000)
    expect(b.get_by_test_id("pending-message")).to_have_count(0)
    expect(messages_with_text(b, "Typed on the train")).to_have_count(1)
    texts = b.get_by_test_id("messages").get_by_test_id("message-text").all_inner_texts()
    assert texts == [
        "Hello Bob, welcome aboard",
        "Hi Alice! Glad to be here",
        *away,
        "Typed on the train",
    ]
    # Bob has read them now, so Alice's last receipt flips too.
    expect(a.get_by_test_id("receipt").last).to_have_text("All read")


def test_a_lost_answer_is_retried_without_a_duplicate(server: str, browser: Browser) -> None:
    """The server stores the message but its answer never arrives: the retry carries the same
    client_msg_id, so the conversation still holds it once."""
    alice = open_person(browser, "Alice", "desktop")
    bob = open_person(browser, "Bob", "desktop")
    try:
        a, b = alice.page, bob.page
        sign_up(alice, server)
        a.get_by_label("Team name").fill("Retry team")
        a.get_by_role("button", name="Create team").click()
        a.get_by_role("button", name="Create invite link").click()
        invite_url = a.get_by_test_id("invite-url").input_value()
        sign_up(bob, server, path=invite_url.removeprefix(server))
        b.get_by_role("button", name="Join team").click()
        expect(b.get_by_role("heading", name="No conversations yet")).to_be_visible()
        a.get_by_role("button", name="Message Bob").click()

        dropped: list[str] = []

        def lose_first_answer(route, request) -> None:  # type: ignore[no-untyped-def]
            if request.method == "POST" and not dropped:
                dropped.append(request.post_data_json["client_msg_id"])
                route.fetch()  # the server stores it ...
                route.abort("connectionreset")  # ... and the answer is lost
                return
            route.continue_()

        a.route(re.compile(r".*/api/v1/conversations/[^/]+/messages$"), lose_first_answer)
        send(a, "Exactly once")
        expect(messages_with_text(a, "Exactly once")).to_have_count(1, timeout=15_000)
        expect(a.get_by_test_id("pending-message")).to_have_count(0, timeout=15_000)
        b.get_by_test_id("conversation-item").filter(has_text="Alice").click()
        expect(messages_with_text(b, "Exactly once")).to_have_count(1)
        assert len(dropped) == 1
        a.wait_for_timeout(6000)  # past the client's retry delay
        expect(messages_with_text(a, "Exactly once")).to_have_count(1)
        expect(messages_with_text(b, "Exactly once")).to_have_count(1)
    finally:
        alice.context.close()
        bob.context.close()
