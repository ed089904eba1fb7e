# ruff: noqa: RUF001  (Chinese sample text uses full-width punctuation on purpose)
"""Takes the screenshots in docs/screenshots/: the main screens, phone and desktop, English
and Simplified Chinese, against a real server seeded with a small, believable team.

    uv run python -m e2e.screenshots      (needs the web build: make run, or npm run build)
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from e2e.harness import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, ROOT, knock_server
from e2e.media_screens import capture_media
from e2e.office_screens import capture_office

OUT = ROOT / "docs" / "screenshots"
PASSWORD = "correct horse battery"


@dataclass
class Dataset:
    locale: str
    team: str
    people: list[str]  # the first one is "me"
    emails: list[str]
    departments: dict[str, list[int]]  # department -> indexes of people
    group: str
    second_group: str
    script: list[tuple[int, str, int | None]]  # (sender, text, reply to line) in the group
    dm: list[tuple[int, str]]  # between me (0) and person 1
    dm2: list[tuple[int, str]]  # between me (0) and person 2
    second_group_script: list[tuple[int, str]]
    guest: str = "Guest"  # someone outside the team, for the join screen
    readers: list[int] = field(default_factory=list)  # who reads the group to the end


EN = Dataset(
    locale="en-US",
    team="Northwind Studio",
    people=["Maya Chen", "Leo Park", "Priya Shah", "Tom Becker", "Sara Lind"],
    emails=[f"{n}@northwind.example" for n in ("maya", "leo", "priya", "tom", "sara")],
    departments={"Design": [0, 2], "Engineering": [1, 3], "Marketing": [4]},
    group="Launch crew",
    second_group="Design reviews",
    script=[
        (
            4,
            "Morning all! Press embargo lifts **Thursday 9:00**, so we freeze copy tomorrow.",
            None,
        ),
        (1, "Build 2.4 is green on staging. Release notes draft: https://example.com/notes", None),
        (0, "Great work. @Leo Park can you double-check the Android deep links?", None),
        (1, "On it, I'll report back before lunch.", 2),
        (
            2,
            "Updated hero images are in the shared folder:\n- light mode\n- dark mode\n- store listing",
            None,
        ),
        (3, "Load test passed at 3× last launch peak, p99 stayed under `80 ms`.", None),
        (0, "Perfect. Let's do a final check-in at 16:00 🙌", None),
    ],
    readers=[1, 2],
    guest="Noah Kim",
    dm=[
        (1, "Deep links are fine on Android 12+, one redirect issue on 11."),
        (0, "Thanks! Is it a blocker for Thursday?"),
        (1, "No, there's a fallback. Patch is up for review."),
    ],
    dm2=[(2, "Could you look at the onboarding illustrations when you have a minute?")],
    second_group_script=[
        (3, "New settings screen is ready for review"),
        (2, "Looks clean! Left two comments."),
    ],
)

ZH = Dataset(
    locale="zh-CN",
    team="星火科技",
    people=["林晓", "王磊", "陈静", "张伟", "刘洋"],
    emails=[
        f"{n}@xinghuo.example" for n in ("linxiao", "wanglei", "chenjing", "zhangwei", "liuyang")
    ],
    departments={"产品部": [0, 2], "研发部": [1, 3], "市场部": [4]},
    group="发布小组",
    second_group="设计评审",
    script=[
        (4, "大家早！发布会定在**周四上午 9 点**，明天冻结文案。", None),
        (1, "2.4 版本已在预发环境通过测试。发布说明初稿：https://example.com/notes", None),
        (0, "辛苦了。@王磊 麻烦再确认一下安卓的深度链接？", None),
        (1, "收到，午饭前给你结果。", 2),
        (2, "新的首页配图已上传到共享文件夹：\n- 浅色模式\n- 深色模式\n- 应用商店截图", None),
        (3, "压测通过：峰值是上次发布的 3 倍，p99 保持在 `80 ms` 以内。", None),
        (0, "太好了，下午 4 点最后碰一下 🙌", None),
    ],
    readers=[1, 2],
    guest="赵敏",
    dm=[
        (1, "安卓 12 以上的深度链接都没问题，11 上有一个跳转问题。"),
        (0, "谢谢！会影响周四发布吗？"),
        (1, "不影响，有兜底方案，修复已提交评审。"),
    ],
    dm2=[(2, "有空的时候帮忙看看新手引导的插画？")],
    second_group_script=[(3, "新的设置页可以评审了"), (2, "很清爽！我留了两条意见。")],
)


class Seeder:
    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base + "/api/v1", timeout=30)

    def call(self, token: str, method: str, path: str, body: Any = None) -> Any:
        answer = self.http.request(
            method, path, json=body, headers={"Authorization": f"Bearer {token}"}
        )
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def seed(self, data: Dataset) -> tuple[str, str, str]:
        """Creates the team and its conversations; returns my email, a guest's and an invite."""
        people: list[dict[str, str]] = []
        for name, email in zip(data.people, data.emails, strict=True):
            answer = self.http.post(
                "/auth/register", json={"email": email, "password": PASSWORD, "display_name": name}
            )
            answer.raise_for_status()
            people.append(
                {"email": email, "token": answer.json()["token"], "id": answer.json()["user"]["id"]}
            )
        me = people[0]
        org = self.call(me["token"], "POST", "/orgs", {"name": data.team})
        invite = self.call(me["token"], "POST", f"/orgs/{org['id']}/invites", {})
        for p in people[1:]:
            self.call(p["token"], "POST", f"/invites/{invite['code']}/accept")
        for dept, members in data.departments.items():
            d = self.call(me["token"], "POST", f"/orgs/{org['id']}/departments", {"name": dept})
            for i in members:
                self.call(
                    me["token"],
                    "PUT",
                    f"/orgs/{org['id']}/members/{people[i]['id']}",
                    {"department_id": d["id"]},
                )

        def conversation(kind: str, members: list[int], title: str | None = None) -> str:
            body = {"kind": kind, "member_ids": [people[i]["id"] for i in members], "title": title}
            return str(
                self.call(me["token"], "POST", f"/orgs/{org['id']}/conversations", body)["id"]
            )

        def say(conv: str, sender: int, text: str, reply_to: str | None = None) -> dict[str, Any]:
            mentions = [p["id"] for i, p in enumerate(people) if f"@{data.people[i]}" in text]
            body = {
                "client_msg_id": str(uuid.uuid4()),
                "text": text,
                "reply_to_id": reply_to,
                "mentions": mentions,
            }
            return dict(
                self.call(people[sender]["token"], "POST", f"/conversations/{conv}/messages", body)
            )

        second = conversation("group", [2, 3], data.second_group)
        for sender, text in data.second_group_script:
            say(second, sender, text)
        dm2 = conversation("dm", [2])
        for sender, text in data.dm2:
            say(dm2, sender, text)
        group = conversation("group", [1, 2, 3, 4], data.group)
        sent: list[dict[str, Any]] = []
        for sender, text, reply in data.script:
            sent.append(say(group, sender, text, sent[reply]["id"] if reply is not None else None))
        for reader in data.readers:
            self.call(
                people[reader]["token"],
                "POST",
                f"/conversations/{group}/read",
                {"up_to_seq": sent[-1]["seq"]},
            )
        self.call(
            people[3]["token"],
            "POST",
            f"/conversations/{group}/read",
            {"up_to_seq": sent[-2]["seq"]},
        )
        dm = conversation("dm", [1])
        for sender, text in data.dm:
            say(dm, sender, text)
        guest_email = "guest@" + data.emails[0].split("@")[1]
        guest = {"email": guest_email, "password": PASSWORD, "display_name": data.guest}
        self.http.post("/auth/register", json=guest).raise_for_status()
        return me["email"], guest_email, str(invite["code"])


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.get_by_test_id("conversation-item").first.wait_for()


def shoot(page: Page, name: str) -> None:
    page.wait_for_timeout(400)  # let transitions settle
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path))
    if shutil.which("pngquant"):  # a third of the size, no visible difference
        subprocess.run(
            ["pngquant", "--quality=80-95", "--speed=1", "--force", "--ext=.png", str(path)],
            check=False,
        )
    print("wrote", name)


def capture(
    browser: Browser, base: str, data: Dataset, seeded: tuple[str, str, str], layout: str
) -> None:
    email, guest_email, invite_code = seeded
    lang = "en" if data.locale.startswith("en") else "zh-CN"
    phone = layout == "phone"
    context = browser.new_context(
        viewport=PHONE if phone else DESKTOP,
        locale=data.locale,
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
        service_workers="block",
    )
    page = context.new_page()
    prefix = f"{layout}-{lang}"
    page.goto(base + "/login")
    page.locator("input[name=email]").wait_for()
    shoot(page, f"{prefix}-sign-in")

    sign_in(page, base, email)
    group_item = page.get_by_test_id("conversation-item").filter(has_text=data.group)
    if phone:
        shoot(page, f"{prefix}-chats")
    group_item.click()
    expect(page.get_by_test_id("message").last).to_be_visible()
    page.wait_for_timeout(600)
    shoot(page, f"{prefix}-chat")

    page.get_by_test_id("receipt").filter(has_text="1").first.click()
    page.get_by_role("dialog").wait_for()
    shoot(page, f"{prefix}-receipts")
    page.keyboard.press("Escape")

    page.get_by_test_id("composer").fill("@")
    page.wait_for_timeout(200)
    if not phone:
        page.locator(".chat-header button[aria-expanded]").click()
        page.wait_for_timeout(300)
        shoot(page, f"{prefix}-group-info")
        page.locator(".chat-header button[aria-expanded]").click()
    page.get_by_test_id("composer").fill("")

    page.goto(base + "/team")
    page.get_by_test_id("team-member").first.wait_for()
    page.locator(".invite-card button").first.click()
    page.get_by_test_id("invite-url").wait_for()
    shoot(page, f"{prefix}-team")
    if phone:
        page.goto(base + "/me")
        page.get_by_role("radiogroup").wait_for()
        shoot(page, f"{prefix}-me")
    context.close()

    # Someone outside the team opens the invite link.
    context = browser.new_context(
        viewport=PHONE if phone else DESKTOP,
        locale=data.locale,
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
        service_workers="block",
    )
    page = context.new_page()
    page.goto(base + "/login")
    page.locator("input[name=email]").fill(guest_email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.locator(".onboarding-card").wait_for()
    page.goto(f"{base}/join/{invite_code}")
    page.locator(".join-team h1").wait_for()
    shoot(page, f"{prefix}-join")
    context.close()


def capture_dark(browser: Browser, base: str, data: Dataset, email: str) -> None:
    context = browser.new_context(
        viewport=DESKTOP, locale=data.locale, color_scheme="dark", service_workers="block"
    )
    page = context.new_page()
    sign_in(page, base, email)
    page.get_by_test_id("conversation-item").filter(has_text=data.group).click()
    expect(page.get_by_test_id("message").last).to_be_visible()
    shoot(page, "desktop-en-chat-dark")
    context.close()


def capture_call(playwright: Playwright, base: str, data: Dataset, email: str) -> None:
    """The call bar of a voice call in progress. A browser of its own: the fake microphone
    (a tone, so the speaking ring shows) is a browser-wide flag."""
    from e2e.test_calls import media_args, write_tone

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "voice.wav"
        write_tone(wav, 440.0)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=media_args(wav))
        context = browser.new_context(viewport=DESKTOP, locale=data.locale, service_workers="block")
        context.grant_permissions(["microphone"], origin=base)
        page = context.new_page()
        sign_in(page, base, email)
        page.get_by_test_id("conversation-item").filter(has_text=data.group).click()
        expect(page.get_by_test_id("message").last).to_be_visible()
        page.get_by_test_id("call-button").click()
        speaking = page.locator('[data-testid="call-participant"][data-speaking="true"]')
        expect(speaking).to_have_count(1, timeout=20_000)
        shoot(page, "desktop-en-call")
        page.get_by_test_id("call-leave").click()
        browser.close()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, knock_server(Path(tmp)) as base:
        seeder = Seeder(base)
        seeded = {data.locale: seeder.seed(data) for data in (EN, ZH)}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for data in (EN, ZH):
                for layout in ("desktop", "phone"):
                    capture(browser, base, data, seeded[data.locale], layout)
            capture_dark(browser, base, EN, seeded[EN.locale][0])
            capture_call(p, base, EN, seeded[EN.locale][0])
            capture_office(browser, base, shoot)
            capture_media(p, base, shoot)
            browser.close()


if __name__ == "__main__":
    main()
