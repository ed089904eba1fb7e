"""The office in real browsers: a leave request approved from its cards in chat while the
submitter watches it go live, and a DING that raises a full-screen alert until confirmed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.api import Account, Api
from e2e.harness import DESKTOP
from e2e.test_messages import sign_in

pytestmark = pytest.mark.slow


def open_page(browser: Browser, server: str, who: Account) -> Page:
    context = browser.new_context(viewport=DESKTOP, locale="en-US", service_workers="block")
    page = context.new_page()
    sign_in(page, server, who)
    return page


def test_a_leave_request_is_approved_from_the_cards_in_chat(server: str, browser: Browser) -> None:
    with Api(server) as api:
        olivia, alice, bob = api.register("Olivia"), api.register("Alice"), api.register("Bob")
        org = api.team_with(olivia, [alice, bob], "Office team")
        engineering = api.call(
            olivia, "POST", f"/orgs/{org}/departments", {"name": "Engineering", "head_id": bob.id}
        )
        api.call(
            olivia, "PUT", f"/orgs/{org}/members/{alice.id}", {"department_id": engineering["id"]}
        )
        api.call(olivia, "PUT", f"/orgs/{org}/members/{olivia.id}", {"titles": ["hr"]})
        alice_bob = api.conversation(alice, org, [bob])
        alice_olivia = api.conversation(alice, org, [olivia])

    a = open_page(browser, server, alice)
    a.goto(server + "/office")
    a.get_by_role("button", name="New request").click()
    a.get_by_role("dialog", name="What do you want to ask for?").get_by_role(
        "button", name="Leave request"
    ).click()
    form = a.get_by_role("dialog", name="Leave request")
    form.get_by_label("Leave type *").select_option("Annual")
    form.get_by_label("From", exact=True).fill("2027-01-04")  # a Monday
    form.get_by_label("To", exact=True).fill("2027-01-05")
    expect(form.get_by_test_id("working-days")).to_have_text("2 working days")
    form.get_by_label("Reason").fill("Family visit")
    form.get_by_role("button", name="Submit").click()
    detail = a.get_by_test_id("approval-detail")
    expect(detail.get_by_test_id("approval-status")).to_have_text("Pending")
    # Two-day leave: the department head, then HR; the second-level step is skipped.
    expect(detail.get_by_test_id("flow-step")).to_have_count(3)
    expect(detail.get_by_test_id("flow-step").nth(1)).to_contain_text("Skipped")
    a.keyboard.press("Escape")

    # Alice watches her card in the chat with Bob.
    a.goto(f"{server}/c/{alice_bob}")
    alice_card = a.get_by_test_id("approval-card")
    expect(alice_card.get_by_test_id("approval-status")).to_have_text("Pending")

    # Bob, the department head, approves from the card in his chat with Alice.
    b = open_page(browser, server, bob)
    b.goto(f"{server}/c/{alice_bob}")
    bob_card = b.get_by_test_id("approval-card")
    expect(bob_card).to_contain_text("Department head")
    bob_card.get_by_role("button", name="Approve").click()
    expect(bob_card.get_by_role("button", name="Approve")).to_have_count(0)

    # The HR step's card reaches Olivia in her chat with Alice; she approves.
    o = open_page(browser, server, olivia)
    o.goto(f"{server}/c/{alice_olivia}")
    olivia_card = o.get_by_test_id("approval-card")
    expect(olivia_card).to_contain_text("HR")
    olivia_card.get_by_role("button", name="Approve").click()

    # Alice's card turned to approved without a reload.
    expect(alice_card.get_by_test_id("approval-status")).to_have_text("Approved")


def test_a_ding_alert_stays_until_confirmed_and_the_sender_sees_it(
    server: str, browser: Browser
) -> None:
    with Api(server) as api:
        alice, bob = api.register("Alice"), api.register("Bob")
        org = api.team_with(alice, [bob], "Ding team")
        chat = api.conversation(alice, org, [bob])
        api.say(alice, chat, "The shop's card reader is down: call the bank now")

    b = open_page(browser, server, bob)
    a = open_page(browser, server, alice)
    a.goto(f"{server}/c/{chat}")
    message = a.get_by_test_id("message").filter(has_text="card reader is down")
    message.hover()
    message.get_by_role("button", name="Message actions").click()
    a.get_by_role("menuitem", name="DING").click()
    dialog = a.get_by_role("dialog", name="Send an urgent DING")
    expect(dialog.get_by_role("checkbox", name="Bob")).to_be_checked()
    dialog.get_by_role("button", name="DING them").click()
    expect(dialog).to_be_hidden()

    alert = b.get_by_test_id("ding-alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Urgent from Alice")
    expect(alert.get_by_test_id("ding-text")).to_contain_text("card reader is down")
    alert.get_by_role("button", name="Got it").click()
    expect(alert).to_be_hidden()

    a.goto(server + "/office")
    a.get_by_role("radio", name="DINGs").click()
    row = a.get_by_test_id("ding-row").first
    expect(row.get_by_test_id("ding-progress")).to_have_text("1 of 1 confirmed")
    expect(row.get_by_test_id("ding-recipient")).to_contain_text("Confirmed")
