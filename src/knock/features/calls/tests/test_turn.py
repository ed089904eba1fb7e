"""Through a real coturn, configured by the README's docs/turnserver.conf: a client that may only
use relayed candidates (as behind a firewall that blocks direct UDP) joins with the TURN
password the server minted for it, and hears the others.

Runs when coturn's ``turnserver`` is installed (Debian: ``apt-get install coturn``).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiortc import RTCConfiguration, RTCIceServer, RTCSessionDescription
from aiortc.rtcconfiguration import RTCIceTransportPolicy

from knock.config import Settings, load_settings
from knock.features.calls import ice
from knock.features.calls.media import ConferenceMedia
from knock.features.calls.tests.test_media import Client, assert_hears, until

CONF = Path(__file__).parents[5] / "docs" / "turnserver.conf"
SECRET = "test-secret-for-coturn"

pytestmark = pytest.mark.skipif(shutil.which("turnserver") is None, reason="coturn not installed")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def turn_config(port: int) -> str:
    """The documented config with this machine's values: loopback instead of the example
    addresses (and loopback peers allowed, which coturn refuses by default)."""
    replaced = {
        "listening-port": str(port),
        "listening-ip": "127.0.0.1",
        "realm": "knock.test",
        "server-name": "knock.test",
        "static-auth-secret": SECRET,
    }
    lines = []
    for line in CONF.read_text().splitlines():
        key = line.split("=", 1)[0]
        if key in ("external-ip", "allowed-peer-ip"):
            continue
        lines.append(f"{key}={replaced[key]}" if key in replaced else line)
    return "\n".join([*lines, "allow-loopback-peers", "no-tls", "no-dtls", ""])


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[int]:
    port = free_udp_port()
    conf = tmp_path / "turnserver.conf"
    conf.write_text(turn_config(port))
    process = subprocess.Popen(
        ["turnserver", "-c", str(conf), "--log-file", str(tmp_path / "turn.log"), "--simple-log"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def settings(coturn: int) -> Settings:
    return load_settings(
        {
            "KNOCK_RTC_ICE_SERVERS": f"turn:127.0.0.1:{coturn}?transport=udp",
            "KNOCK_RTC_TURN_SECRET": SECRET,
        }
    )


@pytest.fixture
async def media(settings: Settings) -> AsyncIterator[ConferenceMedia]:
    async def nothing(*args: object) -> None:
        pass

    conference = ConferenceMedia(settings, nothing)
    yield conference
    await conference.close()


async def test_a_relay_only_client_joins_through_coturn_with_its_minted_password(
    media: ConferenceMedia, settings: Settings
) -> None:
    ann = Client("ann")
    await ann.join(media, "call")

    # bob may not use host candidates at all: only a relay on coturn, with bob's credentials.
    servers = [
        RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
        for s in ice.ice_servers(settings, "bob")
    ]
    bob = Client(
        "bob", RTCConfiguration(iceServers=servers, iceTransportPolicy=RTCIceTransportPolicy.RELAY)
    )
    offer = await bob.offer()
    assert " typ relay" in offer and " typ host" not in offer
    answer = await media.join("call", "bob", offer)
    await bob.peer.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    await until(lambda: bob.peer.connectionState == "connected")
    await asyncio.sleep(1.0)
    assert_hears(await bob.listen_for(1.0), {"ann"}, "bob through TURN")
    assert_hears(await ann.listen_for(1.0), {"bob"}, "ann hearing bob through TURN")
    for client in (ann, bob):
        client.stop_listening()
        await client.peer.close()
