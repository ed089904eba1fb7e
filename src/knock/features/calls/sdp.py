"""The SDP the media server takes and gives, as text: what an offer must be (one audio stream)
and what the answer asks of the client (Opus DTX). No WebRTC stack: the signalling refuses a
bad offer with :class:`OfferRejected` without importing the media server."""

from __future__ import annotations

import re

# Largest SDP offer accepted: a one-track audio offer with many candidates is a few KiB.
MAX_OFFER_BYTES = 64 * 1024


class OfferRejected(ValueError):
    """The SDP offer cannot be used (the message says why); the caller's input, not ours."""


def check_offer(offer_sdp: str) -> None:
    """One audio stream and nothing else: that is all the mixer handles."""
    if len(offer_sdp.encode()) > MAX_OFFER_BYTES:
        raise OfferRejected(f"the offer is larger than {MAX_OFFER_BYTES} bytes")
    media = [line.split()[0] for line in offer_sdp.splitlines() if line.startswith("m=")]
    if media != ["m=audio"]:
        raise OfferRejected("the offer must have exactly one audio stream and nothing else")


_OPUS_RTPMAP = re.compile(r"^a=rtpmap:(\d+) opus/48000", re.IGNORECASE | re.MULTILINE)


def ask_for_dtx(answer_sdp: str) -> str:
    """Ask the client to stop sending while its user is silent (Opus DTX, ``usedtx=1`` in our
    answer's fmtp, RFC 7587): a silent participant then costs the server no decoding at all.
    A missing frame is silence to the mixer, so nothing else changes."""
    lines = answer_sdp.split("\r\n")
    for payload_type in _OPUS_RTPMAP.findall(answer_sdp):
        fmtp = f"a=fmtp:{payload_type} "
        at = next((i for i, line in enumerate(lines) if line.startswith(fmtp)), None)
        if at is None:
            rtpmap = next(
                i for i, line in enumerate(lines) if line.startswith(f"a=rtpmap:{payload_type} ")
            )
            lines.insert(rtpmap + 1, fmtp + "usedtx=1")
        elif "usedtx" not in lines[at]:
            lines[at] += ";usedtx=1"
    return "\r\n".join(lines)
