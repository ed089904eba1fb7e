"""Photos, voice photos and burn-after-reading messages as the web client shows them: recorded
with a (fake) camera and microphone in one browser, opened full screen in another where the
voice really plays."""

from __future__ import annotations

import io
import uuid
import wave
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Playwright, expect

from e2e.api import Account, Api
from e2e.harness import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE
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


SAMPLE_RATE = 48_000


def voice_like_wav(seconds: float = 4.0) -> bytes:
    """A 440 Hz tone with harmonics, swelling like syllables four times a second: steady
    tones alone may be taken for noise by the browser's noise suppression."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    tone = np.sin(2 * np.pi * 440 * t) + 0.5 * np.sin(2 * np.pi * 880 * t)
    tone += 0.25 * np.sin(2 * np.pi * 1320 * t)
    syllables = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)
    samples = (tone * syllables / 1.75 * 0.8 * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(samples.tobytes())
    return out.getvalue()


@pytest.fixture(scope="module")
def media_browser(
    playwright: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Browser]:
    """Chromium with a fake camera and a microphone that plays our WAV, no permission prompts."""
    wav = tmp_path_factory.mktemp("fake-mic") / "voice.wav"
    wav.write_bytes(voice_like_wav())
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
    ]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
    yield browser
    browser.close()


def page_for(browser: Browser, server: str, who: Account, phone: bool = False) -> Page:
    context = browser.new_context(
        viewport=PHONE if phone else DESKTOP,
        locale="en-US",
        is_mobile=phone,
        has_touch=phone,
        service_workers="block",
    )
    context.grant_permissions(["microphone", "camera"], origin=server)
    page = context.new_page()
    page.on("pageerror", lambda err: pytest.fail(f"page error: {err}"))
    sign_in(page, server, who)
    page.get_by_test_id("conversation-item").first.click()
    return page


def elapsed_s(page: Page) -> int:
    minutes, seconds = page.get_by_test_id("voice-elapsed").inner_text().split(":")
    return int(minutes) * 60 + int(seconds)


def test_a_recorded_voice_photo_plays_full_screen_for_the_other_person(
    server: str, media_browser: Browser
) -> None:
    with Api(server) as api:
        ann, ben = api.register("Ann Voice"), api.register("Ben Voice")
        org = api.team_with(ann, [ben], "Voice team")
        api.conversation(ann, org, [ben])

    ben_page = page_for(media_browser, server, ben, phone=True)
    ann_page = page_for(media_browser, server, ann)
    try:
        # Ben takes a photo with the camera and speaks over it.
        ben_page.get_by_role("button", name="Attachments and options").click()
        ben_page.get_by_role("button", name="Voice photo").click()
        dialog = ben_page.get_by_role("dialog", name="Voice photo")
        dialog.get_by_role("button", name="Camera").click()
        shutter = dialog.get_by_role("button", name="Take photo")
        expect(shutter).to_be_enabled()
        shutter.click()
        expect(dialog.get_by_role("img", name="The photo to send")).to_be_visible()
        dialog.get_by_role("button", name="Record a voice message").click()
        expect(dialog.get_by_text("Recording")).to_be_visible()
        ben_page.wait_for_function(
            "() => document.querySelector('[data-testid=voice-elapsed]')?.textContent >= '0:03'"
        )
        dialog.get_by_role("button", name="Stop").click()
        expect(dialog.get_by_label("Your recording")).to_be_visible()
        dialog.get_by_label("Caption (optional)").fill("Listen to the new jingle")
        dialog.get_by_role("button", name="Send").click()
        expect(dialog).to_have_count(0)
        expect(ben_page.get_by_test_id("voice-photo")).to_be_visible()

        # Ann opens it full screen: the voice starts by itself, the waveform fills up.
        ann_page.get_by_role("button", name="Open voice photo").click()
        viewer = ann_page.get_by_test_id("media-viewer")
        expect(viewer).to_be_visible()
        expect(viewer.get_by_role("img", name="Photo")).to_be_visible()
        expect(viewer.get_by_text("Listen to the new jingle")).to_be_visible()
        ann_page.wait_for_function(
            "() => { const a = document.querySelector('[data-testid=media-viewer] audio');"
            " return a && !a.paused && a.currentTime > 0.5; }"
        )
        expect(viewer.get_by_test_id("voice-player")).to_have_attribute("data-playing", "true")
        played = viewer.get_by_test_id("waveform").get_attribute("data-played")
        assert played is not None and int(played) > 0
        # The sound itself: an analyser on the playing element hears the recorded tone.
        loudest = ann_page.evaluate(
            """async () => {
                const audio = document.querySelector('[data-testid=media-viewer] audio');
                audio.currentTime = 0;
                const ctx = new AudioContext();
                await ctx.resume();
                const analyser = ctx.createAnalyser();
                ctx.createMediaElementSource(audio).connect(analyser);
                analyser.connect(ctx.destination);
                const samples = new Float32Array(analyser.fftSize);
                let loudest = 0;
                for (let i = 0; i < 30; i++) {
                    await new Promise((r) => setTimeout(r, 50));
                    analyser.getFloatTimeDomainData(samples);
                    for (const s of samples) loudest = Math.max(loudest, Math.abs(s));
                }
                return loudest;
            }"""
        )
        assert loudest > 0.05, f"the voice is silent (peak {loudest})"

        ann_page.keyboard.press("Escape")
        expect(viewer).to_have_count(0)
    finally:
        ben_page.context.close()
        ann_page.context.close()


def test_a_voice_message_sent_with_the_fake_microphone(server: str, media_browser: Browser) -> None:
    with Api(server) as api:
        ann, ben = api.register("Ann Mic"), api.register("Ben Mic")
        org = api.team_with(ann, [ben], "Mic team")
        conv = api.conversation(ann, org, [ben])

        page = page_for(media_browser, server, ann)
        try:
            page.get_by_role("button", name="Record a voice message").click()
            expect(page.get_by_test_id("voice-bar")).to_be_visible()
            page.wait_for_function(
                "() => document.querySelector('[data-testid=voice-elapsed]')?.textContent >= '0:02'"
            )
            page.get_by_role("button", name="Stop and send").click()
            player = page.get_by_test_id("messages").get_by_test_id("voice-player")
            expect(player).to_be_visible()
            sent = api.call(ben, "GET", f"/conversations/{conv}/messages")["items"][-1]
            assert sent["type"] == "voice"
            clip = sent["media"][0]
            assert clip["kind"] == "audio" and clip["duration_ms"] >= 1500
            assert max(clip["waveform"]) > 30  # the tone was recorded, not silence

            # Cancelling a recording sends nothing.
            page.get_by_role("button", name="Record a voice message").click()
            expect(page.get_by_text("Recording")).to_be_visible()
            page.get_by_role("button", name="Cancel recording").click()
            expect(page.get_by_test_id("voice-bar")).to_have_count(0)
            page.wait_for_timeout(500)
            items = api.call(ben, "GET", f"/conversations/{conv}/messages")["items"]
            assert len(items) == 1
        finally:
            page.context.close()


def test_without_a_microphone_the_person_is_told_why(server: str, browser: Browser) -> None:
    with Api(server) as api:
        ann, ben = api.register("Ann NoMic"), api.register("Ben NoMic")
        org = api.team_with(ann, [ben], "No mic team")
        api.conversation(ann, org, [ben])
    # The plain browser has neither fake devices nor permission: getUserMedia is refused.
    page = page_for(browser, server, ann)
    try:
        page.get_by_role("button", name="Record a voice message").click()
        problem = page.get_by_test_id("voice-problem")
        expect(problem).to_be_visible()
        expect(problem).to_contain_text("microphone")
        problem.get_by_role("button", name="Close").click()
        page.get_by_role("button", name="Attachments and options").click()
        page.get_by_role("button", name="Camera").click()
        expect(page.get_by_test_id("camera-problem")).to_contain_text("camera")
    finally:
        page.context.close()


def test_burn_message_counts_down_and_burns_on_both_sides(
    server: str, media_browser: Browser
) -> None:
    with Api(server) as api:
        ann, ben = api.register("Ann Burn"), api.register("Ben Burn")
        org = api.team_with(ann, [ben], "Burn team")
        api.conversation(ann, org, [ben])

    ben_page = page_for(media_browser, server, ben)
    ann_page = page_for(media_browser, server, ann, phone=True)
    secret = "The vault code is 0815"
    try:
        ben_page.get_by_role("button", name="Attachments and options").click()
        ben_page.get_by_role("button", name="Burn after reading", exact=True).click()
        seconds = ben_page.get_by_label("Burn after reading, each reader gets")
        seconds.fill("6")
        ben_page.get_by_test_id("composer").fill(secret)
        ben_page.get_by_test_id("composer").press("Enter")
        ben_log = ben_page.get_by_test_id("messages")
        expect(ben_log.get_by_text(secret)).to_be_visible()
        expect(ben_log.get_by_test_id("burn-after")).to_have_text(
            "6 sBurns 6 seconds after it is read"
        )

        # Ann sees a sealed placeholder; opening it starts her countdown.
        ann_log = ann_page.get_by_test_id("messages")
        sealed = ann_log.get_by_role("button", name="Burn after reading")
        expect(sealed).to_be_visible()
        expect(ann_page.get_by_text(secret)).to_have_count(0)
        sealed.click()
        expect(ann_log.get_by_text(secret)).to_be_visible()
        timer = ann_log.get_by_role("timer")
        expect(timer).to_have_accessible_name("Burns in 0:06", timeout=2_000)
        expect(timer).to_have_accessible_name("Burns in 0:03", timeout=8_000)

        # Leaving the page blurs it; coming back shows it again.
        content = ann_log.get_by_test_id("burn-content")
        ann_page.evaluate("window.dispatchEvent(new Event('blur'))")
        expect(content).to_have_attribute("data-hidden", "true")
        expect(content).to_have_class("burn-content burn-hidden")
        ann_page.evaluate("window.dispatchEvent(new Event('focus'))")
        expect(content).to_have_attribute("data-hidden", "false")

        burned = "This message was burned after reading"
        expect(ann_log.get_by_text(burned)).to_be_visible(timeout=10_000)
        expect(ann_page.get_by_text(secret)).to_have_count(0)
        # The sender's copy goes when the server purges it (every 15 s) and says so.
        expect(ben_log.get_by_text(burned)).to_be_visible(timeout=60_000)
        expect(ben_page.get_by_text(secret)).to_have_count(0)
    finally:
        ben_page.context.close()
        ann_page.context.close()


def test_voice_waveform_is_drawn_from_the_servers_peaks(
    server: str, media_browser: Browser
) -> None:
    """A voice message uploaded elsewhere shows its 64 server peaks and plays inline."""
    with Api(server) as api:
        ann, ben = api.register("Ann Wave"), api.register("Ben Wave")
        org = api.team_with(ann, [ben], "Wave team")
        conv = api.conversation(ann, org, [ben])
        upload = api.http.post(
            "/media",
            files={"file": ("voice.wav", voice_like_wav(2.0), "audio/wav")},
            headers={"Authorization": f"Bearer {ben.token}"},
        )
        upload.raise_for_status()
        media = upload.json()
        assert len(media["waveform"]) == 64
        body = {"client_msg_id": "wave-1", "type": "voice", "text": "", "media_ids": [media["id"]]}
        api.call(ben, "POST", f"/conversations/{conv}/messages", body)

    page = page_for(media_browser, server, ann)
    try:
        player = page.get_by_test_id("messages").get_by_test_id("voice-player")
        expect(player).to_be_visible()
        bars = player.locator("rect")
        expect(bars).to_have_count(32)
        heights = bars.evaluate_all("rs => rs.map(r => Number(r.getAttribute('height')))")
        assert max(heights) > 10  # a loud clip draws tall bars
        player.get_by_role("button", name="Play voice").click()
        expect(player).to_have_attribute("data-playing", "true")
        page.wait_for_function(
            "() => Number(document.querySelector('[data-testid=waveform]').dataset.played) > 2"
        )
        expect(player).to_have_attribute("data-playing", "false", timeout=10_000)
    finally:
        page.context.close()


def test_media_screens_have_no_serious_accessibility_findings(
    server: str, browser: Browser
) -> None:
    from e2e.test_accessibility import AXE, axe_violations

    if not AXE.exists():
        pytest.skip("web/node_modules not installed")
    with Api(server) as api:
        ann, ben = api.register("Ann Axemedia"), api.register("Ben Axemedia")
        org = api.team_with(ann, [ben], "Axe media team")
        conv = api.conversation(ann, org, [ben])
        headers = {"Authorization": f"Bearer {ben.token}"}
        photo = api.http.post(
            "/media", files={"file": ("p.png", png(), "image/png")}, headers=headers
        )
        clip = api.http.post(
            "/media", files={"file": ("v.wav", voice_like_wav(2.0), "audio/wav")}, headers=headers
        )
        ids = [photo.json()["id"], clip.json()["id"]]
        body = {"type": "voice_photo", "text": "Our stand", "media_ids": ids}
        api.call(
            ben, "POST", f"/conversations/{conv}/messages", {"client_msg_id": "axe-vp", **body}
        )
        secret = {"client_msg_id": "axe-burn", "text": "Sealed", "burn_after_s": 30}
        api.call(ben, "POST", f"/conversations/{conv}/messages", secret)

    context = browser.new_context(
        viewport=PHONE, locale="en-US", bypass_csp=True, service_workers="block"
    )
    try:
        page = context.new_page()
        sign_in(page, server, ann)
        page.get_by_test_id("conversation-item").first.click()
        expect(page.get_by_test_id("voice-photo").locator("img")).to_be_visible()
        page.get_by_role("button", name="Attachments and options").click()
        page.get_by_role("button", name="Burn after reading", exact=True).click()
        expect(page.get_by_test_id("burn-bar")).to_be_visible()
        assert axe_violations(page) == []
        page.get_by_role("button", name="Open voice photo").click()
        expect(page.get_by_test_id("media-viewer").get_by_role("img", name="Photo")).to_be_visible()
        assert axe_violations(page) == []
    finally:
        context.close()
