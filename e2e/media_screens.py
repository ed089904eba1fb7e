"""Screenshots of photos, voice photos, burn-after-reading and albums for the README; called
by screenshots.py. A browser of its own: the fake camera and microphone are browser-wide flags.

    uv run python -m e2e.media_screens     (only these, against a fresh server)
"""

from __future__ import annotations

import io
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.sync_api import Page, Playwright, expect, sync_playwright

from e2e.api import Account, Api
from e2e.harness import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, knock_server
from e2e.test_media_burn import voice_like_wav
from e2e.test_messages import sign_in


def scene(sky: tuple[int, int, int], hill: tuple[int, int, int], sun_x: int) -> bytes:
    """A small landscape, so the screenshots show photos rather than flat colour."""
    width, height = 960, 720
    img = Image.new("RGB", (width, height), sky)
    draw = ImageDraw.Draw(img)
    for y in range(height // 2):
        shade = tuple(min(255, c + y // 6) for c in sky)
        draw.line([(0, y), (width, y)], fill=shade)
    draw.ellipse([sun_x - 60, 120, sun_x + 60, 240], fill=(255, 214, 120))
    draw.polygon(
        [(0, 520), (260, 360), (520, 500), (760, 380), (960, 470), (960, 720), (0, 720)], fill=hill
    )
    darker = tuple(max(0, c - 40) for c in hill)
    draw.polygon([(0, 640), (340, 540), (700, 620), (960, 560), (960, 720), (0, 720)], fill=darker)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=88)
    return out.getvalue()


def upload(api: Api, who: Account, name: str, data: bytes, mime: str) -> str:
    answer = api.http.post(
        "/media",
        files={"file": (name, data, mime)},
        headers={"Authorization": f"Bearer {who.token}"},
    )
    answer.raise_for_status()
    return str(answer.json()["id"])


def send(api: Api, who: Account, conv: str, body: dict[str, object]) -> None:
    api.call(
        who, "POST", f"/conversations/{conv}/messages", {"client_msg_id": str(uuid.uuid4()), **body}
    )


def capture_media(playwright: Playwright, base: str, shoot: Callable[[Page, str], None]) -> None:
    with Api(base) as api:
        maya, leo = api.register("Maya Chen"), api.register("Leo Park")
        org = api.team_with(maya, [leo], "Northwind Studio")
        dm = api.conversation(maya, org, [leo])
        api.say(maya, dm, "How did the shoot at the lake go?")
        photo = upload(
            api, leo, "lake.jpg", scene((88, 140, 214), (64, 140, 92), 700), "image/jpeg"
        )
        voice = upload(api, leo, "voice.wav", voice_like_wav(6.0), "audio/wav")
        caption = "Golden hour at the lake: listen to what the client said"
        send(api, leo, dm, {"type": "voice_photo", "text": caption, "media_ids": [photo, voice]})
        send(
            api,
            leo,
            dm,
            {"text": "The Wi-Fi password for the studio is north-wind-42", "burn_after_s": 30},
        )
        album = api.call(maya, "POST", f"/orgs/{org}/albums", {"title": "Lake shoot"})
        palette = [
            ((88, 140, 214), (64, 140, 92), 700),
            ((230, 140, 90), (120, 90, 70), 300),
            ((120, 110, 200), (50, 90, 110), 520),
            ((90, 180, 220), (90, 160, 80), 180),
            ((200, 120, 150), (80, 100, 120), 820),
            ((60, 80, 140), (40, 60, 70), 420),
        ]
        for i, (sky, hill, sun) in enumerate(palette):
            item = upload(api, maya, f"lake-{i}.jpg", scene(sky, hill, sun), "image/jpeg")
            body = {"client_item_id": f"shot-{i}", "media_id": item, "caption": f"Take {i + 1}"}
            api.call(maya, "POST", f"/albums/{album['id']}/items", body)

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "voice.wav"
        wav.write_bytes(voice_like_wav())
        args = [
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}",
            "--autoplay-policy=no-user-gesture-required",
        ]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        phone = browser.new_context(
            viewport=PHONE,
            locale="en-US",
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
            service_workers="block",
        )
        phone.grant_permissions(["microphone", "camera"], origin=base)
        page = phone.new_page()
        sign_in(page, base, maya)
        page.get_by_test_id("conversation-item").first.click()
        expect(page.get_by_test_id("voice-photo").locator("img")).to_be_visible()
        page.get_by_role("button", name="Attachments and options").click()
        page.get_by_role("button", name="Burn after reading", exact=True).click()
        shoot(page, "phone-en-photo-voice-burn")

        page.get_by_role("button", name="Open voice photo").click()
        page.wait_for_function(
            "() => { const a = document.querySelector('[data-testid=media-viewer] audio');"
            " return a && !a.paused && a.currentTime > 2; }"
        )
        shoot(page, "phone-en-voice-photo-viewer")
        page.keyboard.press("Escape")

        page.get_by_role("button", name="Turn off burn after reading").click()
        page.get_by_role("button", name="Attachments and options").click()
        page.get_by_test_id("messages").get_by_role("button", name="Burn after reading").click()
        expect(page.get_by_role("timer")).to_be_visible()
        page.wait_for_timeout(2_000)
        shoot(page, "phone-en-burn-countdown")

        page.get_by_role("button", name="Record a voice message").click()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=voice-elapsed]')?.textContent >= '0:03'"
        )
        shoot(page, "phone-en-recording")
        page.get_by_role("button", name="Cancel recording").click()
        phone.close()

        desktop = browser.new_context(viewport=DESKTOP, locale="en-US", service_workers="block")
        page = desktop.new_page()
        sign_in(page, base, maya)
        page.goto(base + "/team")
        page.get_by_test_id("album-tile").first.click()
        grid = page.get_by_test_id("album-grid")
        expect(grid.get_by_test_id("album-item")).to_have_count(6)
        expect(grid.locator("img")).to_have_count(6)
        shoot(page, "desktop-en-album")
        desktop.close()
        browser.close()


def main() -> None:
    from e2e.screenshots import OUT, shoot

    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        knock_server(Path(tmp)) as base,
        sync_playwright() as p,
    ):
        capture_media(p, base, shoot)


if __name__ == "__main__":
    main()
