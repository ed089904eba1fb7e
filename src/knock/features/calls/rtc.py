"""WebRTC networking of the media server: where ICE candidates come from (``KNOCK_RTC_*``).

aiortc builds its ICE agent (an ``aioice.Connection``) deep inside ``RTCPeerConnection`` and
gathers host candidates on every interface but loopback, each on a random UDP port. A server
behind a firewall or NAT needs a fixed address list and a port range it can open, and the tests
need 127.0.0.1. aioice has no option for either, so :func:`install` replaces the class aiortc
instantiates with :class:`ConfiguredIceConnection`, a subclass that reads a
:class:`~knock.features.calls.ice.HostPolicy` from a context variable when it is created. Without a policy in the context it is exactly
aioice's connection, so any other ``RTCPeerConnection`` in the process behaves as before; with
one (set by :func:`host_policy` around ``setRemoteDescription``/``setLocalDescription``), host
candidates are bound on the configured addresses within the configured port range.

What the signalling needs of these settings without aiortc lives in
:mod:`knock.features.calls.ice`; this module is imported with the media server only.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import socket
from collections.abc import Iterator
from typing import Any

import aiortc.rtcicetransport
from aioice import Candidate, Connection, TransportPolicy
from aioice.candidate import candidate_foundation, candidate_priority
from aioice.ice import StunProtocol
from aiortc import RTCConfiguration, RTCIceServer

from knock.config import Settings
from knock.features.calls.ice import (
    MEDIA_SERVER_TURN_USER,
    HostPolicy,
    PortRangeExhausted,
    ice_servers,
)

log = logging.getLogger(__name__)

# aioice's own receive buffer for its sockets: a burst of 20 ms audio packets from many
# peers must not overflow the kernel's small default.
_RECEIVE_BUFFER_BYTES = 262_144

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


def server_configuration(settings: Settings) -> RTCConfiguration:
    """The media server's peer connection configuration. An explicit empty list matters:
    aiortc falls back to a public Google STUN server when given none."""
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=server.urls, username=server.username, credential=server.credential)
            for server in ice_servers(settings, MEDIA_SERVER_TURN_USER)
        ]
    )
