"""Screenshots of the office (approvals and DING) for the README; called by screenshots.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from e2e.api import Account, Api
from e2e.harness import DESKTOP, PHONE
from e2e.test_messages import sign_in


def capture_office(browser: Browser, base: str, shoot: Callable[[Page, str], None]) -> None:
    with Api(base) as api:
        lin, mei, jun = api.register("Lin Wei"), api.register("Mei Chen"), api.register("Jun Park")
        org = api.team_with(lin, [mei, jun], "Northwind Studio")
        design = api.call(
            lin, "POST", f"/orgs/{org}/departments", {"name": "Design", "head_id": jun.id}
        )
        api.call(lin, "PUT", f"/orgs/{org}/members/{mei.id}", {"department_id": design["id"]})
        api.call(lin, "PUT", f"/orgs/{org}/members/{lin.id}", {"titles": ["hr"]})
        templates = api.call(mei, "GET", f"/orgs/{org}/approval-templates")["items"]
        leave = next(t for t in templates if t["builtin"] == "leave")
        values = {
            "type": "Annual",
            "dates": {"from": "2027-01-04", "to": "2027-01-08"},
            "reason": "Lunar New Year trip home",
        }
        api.call(
            mei,
            "POST",
            f"/orgs/{org}/approvals",
            {"template_id": leave["id"], "client_request_id": str(uuid.uuid4()), "values": values},
        )
        chat = api.conversation(mei, org, [jun])
        urgent = api.say(mei, chat, "The client moved the review to 3 pm today — please confirm")

    jun_page = _page(browser, base, jun, DESKTOP)
    jun_page.goto(f"{base}/c/{chat}")
    expect(jun_page.get_by_test_id("approval-card")).to_be_visible()
    shoot(jun_page, "desktop-en-approval-card")
    jun_page.get_by_test_id("approval-card").get_by_role("button", name="Details").click()
    expect(jun_page.get_by_test_id("flow-steps")).to_be_visible()
    shoot(jun_page, "desktop-en-approval-detail")
    jun_page.keyboard.press("Escape")
    jun_page.goto(base + "/office")
    expect(jun_page.get_by_test_id("approval-row").first).to_be_visible()
    shoot(jun_page, "desktop-en-office")

    lin_page = _page(browser, base, lin, DESKTOP)
    lin_page.goto(base + "/office")
    lin_page.get_by_role("button", name="Edit Leave request").click()
    expect(lin_page.get_by_test_id("step-editor").first).to_be_visible()
    shoot(lin_page, "desktop-en-template-editor")

    with Api(base) as api:
        body = {
            "client_ding_id": str(uuid.uuid4()),
            "recipient_ids": [jun.id],
            "message_id": urgent["id"],
            "text": urgent["text"],
        }
        api.call(mei, "POST", f"/orgs/{org}/dings", body)
    phone = _page(browser, base, jun, PHONE)
    expect(phone.get_by_test_id("ding-alert")).to_be_visible()
    shoot(phone, "phone-en-ding-alert")
    for page in (jun_page, lin_page, phone):
        page.context.close()


def _page(browser: Browser, base: str, who: Account, viewport: dict[str, int]) -> Page:
    phone = viewport == PHONE
    context = browser.new_context(
        viewport=viewport,
        locale="en-US",
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
        service_workers="block",
    )
    page = context.new_page()
    sign_in(page, base, who)
    return page
