"""What the signalling needs of ``KNOCK_RTC_*`` without the WebRTC stack: the STUN/TURN servers
a client is given, where the media server binds its host candidates, and the error of a port
range in full use.

Kept apart from :mod:`knock.features.calls.rtc` (which subclasses aioice's ICE agent) so that
a node imports aiortc, PyAV and numpy only when its first call needs media: they cost more
than a second of every start, and most starts (and most nodes) never hold a call.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import time
from dataclasses import dataclass

from knock.config import Settings
from knock.core.errors import KnockError


class PortRangeExhausted(KnockError):
    """Every UDP port of ``KNOCK_RTC_PORT_MIN..KNOCK_RTC_PORT_MAX`` is in use on an address:
    this node holds as many participants as its firewall lets through. 503, try again later."""

    status = 503
    code = "media_unavailable"
    default_message = "The media server has no free port for another participant right now."

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "30"}


@dataclass(frozen=True)
class HostPolicy:
    """Where host candidates are bound: addresses (empty = every interface, aioice's choice)
    and an inclusive UDP port range (0, 0 = any port the system picks)."""

    addresses: tuple[str, ...]
    port_min: int = 0
    port_max: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> HostPolicy:
        return cls(
            addresses=tuple(settings.rtc_host_addresses),
            port_min=settings.rtc_port_min,
            port_max=settings.rtc_port_max,
        )

    def ports(self) -> list[int]:
        """Ports to try, in an order that starts somewhere random so that concurrent joins
        (and several nodes on one host) do not all race for the first port."""
        if self.port_min == 0:
            return [0]
        span = list(range(self.port_min, self.port_max + 1))
        start = random.randrange(len(span))
        return span[start:] + span[:start]


@dataclass(frozen=True)
class IceServer:
    """One STUN or TURN server as a WebRTC client wants it (``RTCIceServer`` in browsers)."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


def ice_servers(settings: Settings, user_id: str, now: float | None = None) -> list[IceServer]:
    """The STUN/TURN servers for one user: the signalling hands these to the client, and the
    media server uses them itself with its own user id.

    With ``KNOCK_RTC_TURN_SECRET`` (coturn's ``static-auth-secret``) each user gets a TURN
    password that expires after ``KNOCK_RTC_TURN_CREDENTIAL_TTL_S`` (coturn's REST-API scheme:
    username ``<expiry>:<user>``, password base64(HMAC-SHA1(secret, username))), so nothing
    long-lived leaves the server. Otherwise the fixed ``KNOCK_RTC_TURN_USERNAME``/``_CREDENTIAL``.
    """
    stun = [url for url in settings.rtc_ice_servers if url.startswith("stun")]
    turn = [url for url in settings.rtc_ice_servers if url.startswith("turn")]
    servers = [IceServer(urls=stun)] if stun else []
    if not turn:
        return servers
    if settings.rtc_turn_secret:
        expiry = int(time.time() if now is None else now) + settings.rtc_turn_credential_ttl_s
        username = f"{expiry}:{user_id}"
        digest = hmac.new(
            settings.rtc_turn_secret.encode(), username.encode(), hashlib.sha1
        ).digest()
        servers.append(
            IceServer(urls=turn, username=username, credential=base64.b64encode(digest).decode())
        )
    else:
        servers.append(
            IceServer(
                urls=turn,
                username=settings.rtc_turn_username or None,
                credential=settings.rtc_turn_credential or None,
            )
        )
    return servers


# The media server's own name towards TURN, when credentials are minted per user.
MEDIA_SERVER_TURN_USER = "knock-media"
