"""A minimal raw asyncio XMPP client for the load generator (slixmpp costs too much CPU per
stanza to measure a server at tens of thousands of deliveries a second).

It does only what the benchmark needs: open a stream, register in-band (XEP-0077), sign in
with SASL PLAIN, bind a resource, join a MUC room without history, and send groupchat
messages. Received messages are timestamped in ``data_received`` (bytes reaching user space,
before any parsing, as PEERS.md defines latency) and their key, the first word of the body,
is cut out with ``bytes.find``; nothing is parsed as XML on the hot path.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from typing import Any

from bench.client import Received, now

_STREAM = (
    "<?xml version='1.0'?><stream:stream to='{domain}' xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
)
_BODY = b"<body>"
_END = b"</message>"


class XMPPClient(asyncio.Protocol):
    def __init__(self, domain: str, received: Received) -> None:
        self.domain = domain
        self.received = received
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._setup = bytearray()  # everything before going live, to wait on
        self._changed = asyncio.Event()
        self.live = False
        self.closed = False

    # Plumbing ----------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._changed.set()

    def data_received(self, data: bytes) -> None:
        t = now()
        if not self.live:
            self._setup += data
            self._changed.set()
            return
        buf = self._buf
        buf += data
        rec = self.received
        pos = 0
        while True:
            end = buf.find(_END, pos)
            if end < 0:
                break
            start = buf.find(_BODY, pos, end)
            if start >= 0:
                start += 6
                stop = buf.find(b" ", start, end)
                rec.frames.append((t, len(rec.frames), bytes(buf[start:stop])))
            else:
                rec.other += 1
            pos = end + len(_END)
        if pos:
            del buf[:pos]

    def write(self, text: str) -> None:
        assert self.transport is not None
        self.transport.write(text.encode())

    async def expect(self, *needles: bytes, within_s: float = 60.0) -> bytes:
        """Wait until the setup bytes hold one of ``needles``; answers and consumes them."""
        deadline = now() + within_s
        while True:
            for needle in needles:
                at = self._setup.find(needle)
                if at >= 0:
                    found = bytes(self._setup[: at + len(needle)])
                    del self._setup[: at + len(needle)]
                    return found
            if self.closed:
                raise ConnectionError(f"closed while waiting for {needles}: {self._setup!r}")
            if now() > deadline:
                raise TimeoutError(f"waited for {needles}; have {bytes(self._setup[-500:])!r}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), max(0.01, deadline - now()))

    # Protocol ----------------------------------------------------------------------

    async def open_stream(self) -> None:
        self.write(_STREAM.format(domain=self.domain))
        await self.expect(b"</stream:features>")

    async def register(self, user: str, password: str) -> None:
        self.write(
            f"<iq type='set' id='reg'><query xmlns='jabber:iq:register'><username>{user}"
            f"</username><password>{password}</password></query></iq>"
        )
        answer = await self.expect(b"id='reg'", b'id="reg"')
        rest = await self.expect(b"</iq>", b"/>")
        failed = b"type='error'" in answer + rest or b'type="error"' in answer + rest
        if failed and b"conflict" not in rest:  # already registered is fine (a rerun)
            raise ConnectionError(f"registration refused: {answer + rest!r}")

    async def sign_in(self, user: str, password: str) -> None:
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        self.write(
            f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>"
        )
        answer = await self.expect(b"<success", b"<failure")
        if b"<failure" in answer:
            raise ConnectionError(f"SASL failed for {user}")
        await self.open_stream()
        self.write(
            "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
            "<resource>bench</resource></bind></iq>"
        )
        await self.expect(b"</iq>")
        self.write(
            "<iq type='set' id='sess'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>"
        )
        await self.expect(b"id='sess'", b'id="sess"')

    async def join(self, room: str, nick: str, owner: bool) -> None:
        """Join without history; the answer ends with our own presence (status 110)."""
        self.write(
            f"<presence to='{room}/{nick}'><x xmlns='http://jabber.org/protocol/muc'>"
            "<history maxstanzas='0'/></x></presence>"
        )
        await self.expect(b"code='110'", b'code="110"', within_s=600)
        if owner:  # accept the default configuration: an instant room, unlocked
            self.write(
                f"<iq type='set' to='{room}' id='cfg'><query "
                "xmlns='http://jabber.org/protocol/muc#owner'>"
                "<x xmlns='jabber:x:data' type='submit'/></query></iq>"
            )
            await self.expect(b"id='cfg'", b'id="cfg"')

    def go_live(self) -> None:
        """From now on count messages; presence traffic of later joiners is not counted."""
        self.live = True
        self._setup.clear()

    def message_bytes(self, room: str, key: str, fill: str) -> bytes:
        return (
            f"<message to='{room}' type='groupchat' id='{key}'><body>{key} {fill}</body></message>"
        ).encode()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


async def connect(host: str, port: int, domain: str, received: Received) -> XMPPClient:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: XMPPClient(domain, received), host, port)
    return client
