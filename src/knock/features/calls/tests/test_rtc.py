"""KNOCK_RTC_*: where the media server's ICE candidates are, and what STUN/TURN clients get."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import socket
from collections.abc import AsyncIterator

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from knock.config import SettingsError, load_settings
from knock.features.calls import ice, rtc
from knock.features.calls.media import ConferenceMedia

CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ (\w+)", re.MULTILINE)


async def offer() -> tuple[RTCPeerConnection, str]:
    peer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    peer.addTransceiver("audio")
    with rtc.host_policy(ice.HostPolicy(addresses=("127.0.0.1",))):
        await peer.setLocalDescription(await peer.createOffer())
    return peer, peer.localDescription.sdp


def free_port_range(size: int) -> int:
    """The start of ``size`` consecutive UDP ports that are free on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            start = int(probe.getsockname()[1])
        if start + size <= 65535 and all(udp_port_free(p) for p in range(start, start + size)):
            return start
    raise RuntimeError("no free range of UDP ports")


def udp_port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


async def nothing(*args: object) -> None:
    pass


@pytest.fixture
def port_min() -> int:
    return free_port_range(2)


@pytest.fixture
async def media(port_min: int) -> AsyncIterator[ConferenceMedia]:
    settings = load_settings(
        {
            "KNOCK_RTC_HOST_ADDRESSES": "127.0.0.1",
            "KNOCK_RTC_PORT_MIN": str(port_min),
            "KNOCK_RTC_PORT_MAX": str(port_min + 1),
        }
    )
    conference = ConferenceMedia(settings, nothing)
    yield conference
    await conference.close()


async def test_host_candidates_are_on_the_configured_address_within_the_port_range(
    media: ConferenceMedia, port_min: int
) -> None:
    client_a, sdp_a = await offer()
    client_b, sdp_b = await offer()
    client_c, sdp_c = await offer()
    port_of = {}
    for user, sdp in (("ann", sdp_a), ("bob", sdp_b)):
        answer = await media.join("call", user, sdp)
        candidates = CANDIDATE.findall(answer)
        assert [(host, kind) for host, _, kind in candidates] == [("127.0.0.1", "host")]
        port_of[user] = int(candidates[0][1])
    assert set(port_of.values()) == {port_min, port_min + 1}

    # The range is full: the third participant gets a clear 503 and nothing is left behind.
    with pytest.raises(ice.PortRangeExhausted) as refused:
        await media.join("call", "cat", sdp_c)
    assert refused.value.status == 503
    assert media.participants("call") == frozenset({"ann", "bob"})

    # A leave frees its port for the next one.
    await media.leave("call", "ann")
    answer = await media.join("call", "cat", sdp_c)
    assert [int(port) for _, port, _ in CANDIDATE.findall(answer)] == [port_of["ann"]]
    for client in (client_a, client_b, client_c):
        await client.close()


async def test_other_peer_connections_in_the_process_keep_aiortcs_own_gathering() -> None:
    rtc.install()
    peer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    peer.addTransceiver("audio")
    await peer.setLocalDescription(await peer.createOffer())
    hosts = {host for host, _, _ in CANDIDATE.findall(peer.localDescription.sdp)}
    assert "127.0.0.1" not in hosts  # aioice leaves loopback out; the policy was not applied
    await peer.close()


def test_turn_passwords_are_minted_per_user_from_the_shared_secret() -> None:
    settings = load_settings(
        {
            "KNOCK_RTC_ICE_SERVERS": "stun:turn.example.org:3478,"
            "turn:turn.example.org:3478?transport=udp",
            "KNOCK_RTC_TURN_SECRET": "s3cret",
            "KNOCK_RTC_TURN_CREDENTIAL_TTL_S": "3600",
        }
    )
    stun, turn = ice.ice_servers(settings, "user-1", now=1_000_000)
    assert stun == ice.IceServer(urls=["stun:turn.example.org:3478"])
    assert turn.urls == ["turn:turn.example.org:3478?transport=udp"]
    assert turn.username == "1003600:user-1"
    expected = hmac.new(b"s3cret", b"1003600:user-1", hashlib.sha1).digest()
    assert turn.credential == base64.b64encode(expected).decode()


def test_a_fixed_turn_user_is_handed_out_as_is_and_no_servers_means_none() -> None:
    settings = load_settings(
        {
            "KNOCK_RTC_ICE_SERVERS": "turn:203.0.113.5:3478",
            "KNOCK_RTC_TURN_USERNAME": "knock",
            "KNOCK_RTC_TURN_CREDENTIAL": "pw",
        }
    )
    assert ice.ice_servers(settings, "u") == [
        ice.IceServer(urls=["turn:203.0.113.5:3478"], username="knock", credential="pw")
    ]
    assert ice.ice_servers(load_settings({}), "u") == []
    # Not aiortc's default public STUN server: an explicit empty list.
    assert rtc.server_configuration(load_settings({})).iceServers == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KNOCK_RTC_HOST_ADDRESSES": "example.org"}, "not an IP address"),
        ({"KNOCK_RTC_PORT_MIN": "40000"}, "must be a range"),
        ({"KNOCK_RTC_PORT_MIN": "40010", "KNOCK_RTC_PORT_MAX": "40000"}, "must be a range"),
        ({"KNOCK_RTC_PORT_MAX": "70000", "KNOCK_RTC_PORT_MIN": "1"}, "KNOCK_RTC_PORT_MAX"),
        ({"KNOCK_RTC_ICE_SERVERS": "https://turn.example.org"}, "stun:, turn: or turns:"),
    ],
)
def test_bad_rtc_settings_stop_the_server_with_a_clear_message(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_host_addresses_are_a_comma_list_and_empty_means_every_interface() -> None:
    settings = load_settings({"KNOCK_RTC_HOST_ADDRESSES": " 10.0.0.2, ::1 "})
    assert settings.rtc_host_addresses == ["10.0.0.2", "::1"]
    assert load_settings({"KNOCK_RTC_HOST_ADDRESSES": ""}).rtc_host_addresses == []
