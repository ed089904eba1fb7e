"""Three people in three Chromium browsers hold a voice conference through the web client,
each with a fake microphone playing its own tone; in every page a Web Audio AnalyserNode on
the audio received from the call hears the other two tones and not its own.

The test runs in a network namespace of its own (``unshare -n``) holding only the loopback
interface and a pair of virtual interfaces wired only to each other (with loopback alone
Chromium reports itself offline, and the client then waits for the network): the server, the
three browsers and every WebRTC packet stay on 127.0.0.1 and nothing reaches a real network. It re-executes itself under ``unshare -n`` (root, or a kernel allowing user
namespaces, is needed); where that is impossible it runs on loopback in the current
namespace instead and says so in its output.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from e2e.api import Account, Api
from e2e.harness import CHROMIUM, CHROMIUM_ARGS, DESKTOP, ROOT, free_port
from e2e.test_messages import sign_in

pytestmark = pytest.mark.slow

IN_NAMESPACE = "KNOCK_TEST_CALLS_IN_NETNS"
SCREENSHOT = ROOT / "docs" / "screenshots" / "desktop-en-call-bar.png"
# Each page hears the other two tones; their sums, differences and third-order products
# (which a codec or a limiter make) all fall far from the page's own tone, so energy there
# means the mixer sent the page its own voice back.
TONES_HZ = (440.0, 620.0, 1330.0)
RATE = 48_000


def write_tone(path: Path, hz: float, seconds: float = 8.0) -> None:
    """A WAV Chromium's fake microphone loops: the tone in 400 ms beeps (a steady tone would
    be taken for background noise and suppressed by the browser's noise suppression)."""
    t = np.arange(int(seconds * RATE)) / RATE
    beeping = (np.floor(t / 0.4) % 2 == 0).astype(np.float64)
    # Soft edges: no clicks, whose broadband energy would blur the spectrum.
    ramp = np.clip(np.minimum(t % 0.4, 0.4 - t % 0.4) / 0.02, 0, 1)
    # Well below full scale: two voices summed by the mixer must not clip (clipping spreads
    # energy over the whole spectrum, own tone included).
    samples = (0.2 * 32767 * np.sin(2 * math.pi * hz * t) * beeping * ramp).astype(np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())


def media_args(wav: Path) -> list[str]:
    return [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
        "--allow-loopback-in-peer-connection",
        "--autoplay-policy=no-user-gesture-required",
    ]


# Listens to what the call sends this page (the <audio> the client plays it in) and returns,
# for each frequency, the level (dB) near it averaged (as power) over about two seconds.
LISTEN_JS = """
async (freqs) => {
  const speaker = document.querySelector('[data-testid="call-audio"]');
  const stream = speaker && speaker.srcObject;
  if (!stream || stream.getAudioTracks().length === 0) return null;
  const context = new AudioContext();
  await context.resume();
  const analyser = context.createAnalyser();
  analyser.fftSize = 8192;
  analyser.smoothingTimeConstant = 0;
  context.createMediaStreamSource(stream).connect(analyser);
  const bins = new Float32Array(analyser.frequencyBinCount);
  const hzPerBin = context.sampleRate / analyser.fftSize;
  const power = freqs.map(() => 0);
  const rounds = 20;
  for (let round = 0; round < rounds; round++) {
    await new Promise((r) => setTimeout(r, 100));
    analyser.getFloatFrequencyData(bins);
    freqs.forEach((hz, i) => {
      const centre = Math.round(hz / hzPerBin);
      let loudest = -Infinity;
      for (let b = centre - 3; b <= centre + 3; b++) loudest = Math.max(loudest, bins[b]);
      power[i] += Math.pow(10, loudest / 10) / rounds;
    });
  }
  await context.close();
  return power.map((p) => (p > 0 ? 10 * Math.log10(p) : -200));
}
"""


@dataclass
class Attendee:
    account: Account
    tone_hz: float
    page: Page


@contextmanager
def attendees(
    playwright: Playwright, base: str, accounts: list[Account], wavs: list[Path]
) -> Iterator[list[Attendee]]:
    """One browser per person: the fake microphone's file is a browser-wide flag."""
    with ExitStack() as stack:
        people = []
        for account, wav, hz in zip(accounts, wavs, TONES_HZ, strict=True):
            browser: Browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=media_args(wav)
            )
            stack.callback(browser.close)
            context = browser.new_context(viewport=DESKTOP, locale="en-US", service_workers="block")
            context.grant_permissions(["microphone"], origin=base)
            page = context.new_page()
            sign_in(page, base, account)
            people.append(Attendee(account, hz, page))
        yield people


def listen(page: Page) -> dict[float, float]:
    levels = page.evaluate(LISTEN_JS, list(TONES_HZ))
    assert levels is not None, "the page receives no audio from the call"
    return dict(zip(TONES_HZ, levels, strict=True))


def clear(levels: dict[float, float], own_hz: float) -> bool:
    own = levels[own_hz]
    return all(level > -70 and level > own + 20 for hz, level in levels.items() if hz != own_hz)


def listen_until_clear(person: Attendee, windows: int = 5) -> dict[float, float]:
    """Up to ``windows`` two-second listens: on two cores shared with other work a window can
    catch the audio path starved for a moment (silence, or concealment noise); the call passes
    when one window is clear, and the last window is what a failure reports."""
    for _ in range(windows):
        levels = listen(person.page)
        print(f"{person.account.name} ({person.tone_hz:.0f} Hz) hears (dB):", levels)
        if clear(levels, person.tone_hz):
            break
    return levels


def run_conference(base: str, workdir: Path) -> None:
    wavs = []
    for hz in TONES_HZ:
        wavs.append(workdir / f"tone-{int(hz)}.wav")
        write_tone(wavs[-1], hz)
    with Api(base) as api:
        ann, ben, cy = api.register("Ann"), api.register("Ben"), api.register("Cy")
        org = api.team_with(ann, [ben, cy])
        conversation = api.conversation(ann, org, [ben, cy], "Standup")

    with (
        sync_playwright() as playwright,
        attendees(playwright, base, [ann, ben, cy], wavs) as people,
    ):
        for person in people:
            person.page.goto(f"{base}/c/{conversation}")
        first, *others = people
        first.page.get_by_test_id("call-button").click()
        expect(
            first.page.get_by_test_id("call-bar").get_by_test_id("call-participant")
        ).to_have_count(1)
        for person in others:
            # The banner for those not in it yet: "Voice call in progress — Join".
            banner = person.page.get_by_test_id("call-banner")
            expect(banner).to_be_visible()
            banner.get_by_test_id("call-join").click()
        for person in people:
            expect(
                person.page.get_by_test_id("call-bar").get_by_test_id("call-participant")
            ).to_have_count(3)

        # Everyone hums: the mixer marks speakers, and the bar shows it.
        for person in people:
            speaking = person.page.locator('[data-testid="call-participant"][data-speaking="true"]')
            expect(speaking.first).to_be_visible(timeout=15_000)

        for person in people:
            levels = listen_until_clear(person)
            own = levels[person.tone_hz]
            for hz, level in levels.items():
                if hz == person.tone_hz:
                    continue
                assert level > -70, (
                    f"{person.account.name} does not hear the {hz} Hz tone: {levels}"
                )
                # Mix-minus: one's own voice is not sent back.
                assert level > own + 20, f"{person.account.name} hears their own tone: {levels}"

        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        first.page.get_by_test_id("call-bar").screenshot(path=str(SCREENSHOT))

        # Muted, Ann is no longer heard by the others.
        first.page.get_by_test_id("call-mute").click()
        expect(
            others[0].page.locator('[data-testid="call-participant"] svg[aria-label="muted"]')
        ).to_have_count(1)
        for _ in range(5):
            levels = listen(others[0].page)
            if levels[first.tone_hz] < levels[others[1].tone_hz] - 20:
                break
        assert levels[first.tone_hz] < levels[others[1].tone_hz] - 20, levels

        # Everyone leaves: the call ends, and nothing of it is left on any page.
        for person in people:
            person.page.get_by_test_id("call-leave").click()
        for person in people:
            expect(person.page.get_by_test_id("call-bar")).to_have_count(0)
            expect(person.page.get_by_test_id("call-banner")).to_have_count(0)


NAMESPACE_SETUP = (
    "ip link set lo up && ip link add knock0 type veth peer name knock1 && "
    "ip addr add 10.213.0.1/24 dev knock0 && ip link set knock0 up && ip link set knock1 up && "
    'exec "$@"'
)


@contextmanager
def server_here(data_dir: Path) -> Iterator[str]:
    """``knock serve`` from this interpreter (no ``uv`` resolving anything in the namespace)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KNOCK_")}
    env["KNOCK_DATA_DIR"] = str(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{port}"
    with (data_dir / "server.log").open("wb") as log:
        command = [
            sys.executable,
            "-m",
            "knock",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while not _answers(base):
                assert process.poll() is None, (data_dir / "server.log").read_text()
                assert time.monotonic() < deadline, (data_dir / "server.log").read_text()
                time.sleep(0.25)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=20)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def unshare_available() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


def test_three_browsers_hear_each_other_through_the_mixer(tmp_path: Path) -> None:
    if os.environ.get(IN_NAMESPACE) == "1" or not unshare_available():
        if os.environ.get(IN_NAMESPACE) != "1":
            print("unshare -n is not possible here: running on loopback in this namespace")
        with server_here(tmp_path / "server") as base:
            run_conference(base, tmp_path)
        return
    # Re-run this very test inside a fresh network namespace with only `lo` up.
    env = {**os.environ, IN_NAMESPACE: "1"}
    command = [
        "unshare", "-n", "--", "sh", "-c", NAMESPACE_SETUP, "sh",
        sys.executable, "-m", "pytest", "-q", "-s",
        f"{Path(__file__).resolve()}::test_three_browsers_hear_each_other_through_the_mixer",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    print(result.stdout[-4000:], result.stderr[-2000:])
    assert result.returncode == 0, (
        f"the conference inside unshare -n failed:\n{result.stdout[-6000:]}"
    )
