"""WebRTC networking of the media server: where ICE candidates come from (``KNOCK_RTC_*``).

aiortc builds its ICE agent (an ``aioice.Connection``) deep inside ``RTCPeerConnection`` and
gathers host candidates on every interface but loopback, each on a random UDP port. A server
behind a firewall or NAT needs a fixed address list and a port range it can open, and the tests
need 127.0.0.1. aioice has no option for either, so :func:`install` replaces the class aiortc
instantiates with :class:`ConfiguredIceConnection`, a subclass that reads a :class:`HostPolicy`
from a context variable when it is created. Without a policy in the context it is exactly
aioice's connection, so any other ``RTCPeerConnection`` in the process behaves as before; with
one (set by :func:`host_policy` around ``setRemoteDescription``/``setLocalDescription``), host
candidates are bound on the configured addresses within the configured port range.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import hashlib
import hmac
import logging
import random
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aiortc.rtcicetransport
from aioice import Candidate, Connection, TransportPolicy
from aioice.candidate import candidate_foundation, candidate_priority
from aioice.ice import StunProtocol
from aiortc import RTCConfiguration, RTCIceServer

from knock.config import Settings
from knock.core.errors import KnockError

log = logging.getLogger(__name__)

# aioice's own receive buffer for its sockets: a burst of 20 ms audio packets from many
# peers must not overflow the kernel's small default.
_RECEIVE_BUFFER_BYTES = 262_144


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


_host_policy: contextvars.ContextVar[HostPolicy | None] = contextvars.ContextVar(
    "knock_rtc_host_policy", default=None
)


@contextlib.contextmanager
def host_policy(policy: HostPolicy) -> Iterator[None]:
    """ICE agents created inside this block gather host candidates as ``policy`` says."""
    token = _host_policy.set(policy)
    try:
        yield
    finally:
        _host_policy.reset(token)


class ConfiguredIceConnection(Connection):
    """aioice's ICE agent, binding host candidates as the :class:`HostPolicy` in the context
    at creation says (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.knock_policy = _host_policy.get()
        # Relay-only (RFC 9429 3.5.3) gathers no host candidates, configured or not.
        self._relay_only = kwargs.get("transport_policy") == TransportPolicy.RELAY

    # aioice's signature, overridden: hence a ``timeout`` parameter.
    async def get_component_candidates(
        self,
        component: int,
        addresses: list[str],
        timeout: int = 5,  # noqa: ASYNC109
    ) -> list[Candidate]:
        policy = self.knock_policy
        if policy is None or self._relay_only:
            return await super().get_component_candidates(component, addresses, timeout)
        chosen = list(policy.addresses) or addresses
        hosts = []
        for address in chosen:
            hosts.append(await self._bind_host(component, address, policy))
            self._protocols.append(hosts[-1])  # so that close() closes it, even after a failure
        # STUN and TURN candidates: aioice's own code, with no host sockets left for it to bind.
        others = await super().get_component_candidates(component, [], timeout)
        return [p.local_candidate for p in hosts] + others

    async def _bind_host(self, component: int, address: str, policy: HostPolicy) -> StunProtocol:
        loop = asyncio.get_running_loop()
        for port in policy.ports():
            try:
                transport, protocol = await loop.create_datagram_endpoint(
                    lambda: StunProtocol(self), local_addr=(address, port)
                )
            except OSError:
                if port == 0:
                    raise
                continue
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER_BYTES)
            host, bound_port = transport.get_extra_info("sockname")[:2]
            protocol.local_candidate = Candidate(
                foundation=candidate_foundation("host", "udp", host),
                component=component,
                transport="udp",
                priority=candidate_priority(component, "host"),
                host=host,
                port=bound_port,
                type="host",
            )
            return protocol
        log.warning("no free UDP port in %s-%s on %s", policy.port_min, policy.port_max, address)
        raise PortRangeExhausted()


def install() -> None:
    """Make aiortc create :class:`ConfiguredIceConnection` agents (idempotent)."""
    aiortc.rtcicetransport.Connection = ConfiguredIceConnection  # type: ignore[attr-defined]


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


def server_configuration(settings: Settings) -> RTCConfiguration:
    """The media server's peer connection configuration. An explicit empty list matters:
    aiortc falls back to a public Google STUN server when given none."""
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=server.urls, username=server.username, credential=server.credential)
            for server in ice_servers(settings, MEDIA_SERVER_TURN_USER)
        ]
    )
