"""Burn-after-reading: who may see a burn message's content, and each reader's timer.

A burn message's content (text, media) is sealed for recipients until they open it; the
opening starts that reader's timer, and when it ends their copy is burned (the server
answers the burned placeholder). The content itself is purged for everyone once every
recipient's copy has burned, or at the hard limit, by ``knock.features.burn.purge``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from knock.features.burn import repository as repo
from knock.features.burn.models import BurnMessage, BurnReader

BURN_MIN_S = 5
BURN_MAX_S = 300


@dataclass(frozen=True)
class BurnState:
    """How one viewer sees one burn message: ``sealed`` hides its content; ``burned`` says
    it is gone (for this viewer or for everyone); ``expires_at`` is the viewer's timer."""

    burn_after_s: int
    sealed: bool
    burned: bool = False
    expires_at: datetime | None = None


def _state(
    burn: BurnMessage, reading: BurnReader | None, viewer_id: str, now: datetime
) -> BurnState:
    if burn.burned_at is not None or now >= burn.hard_expires_at:
        return BurnState(burn.burn_after_s, sealed=True, burned=True)
    if viewer_id == burn.sender_id:
        return BurnState(burn.burn_after_s, sealed=False)
    if reading is None:
        return BurnState(burn.burn_after_s, sealed=True)
    if now >= reading.expires_at:
        return BurnState(burn.burn_after_s, sealed=True, burned=True, expires_at=reading.expires_at)
    return BurnState(burn.burn_after_s, sealed=False, expires_at=reading.expires_at)


def sealed_state(burn_after_s: int) -> BurnState:
    """What every event frame of a burn message carries: no content, ever."""
    return BurnState(burn_after_s, sealed=True)


async def burn_states(
    session: AsyncSession, viewer_id: str, message_ids: list[str], now: datetime
) -> dict[str, BurnState]:
    """The viewer's state of each burn message among ``message_ids`` (others are absent)."""
    burns = await repo.burns_by_id(session, message_ids)
    if not burns:
        return {}
    readings = {
        r.message_id: r
        for r in await repo.readings_of(session, viewer_id, [b.message_id for b in burns])
    }
    return {b.message_id: _state(b, readings.get(b.message_id), viewer_id, now) for b in burns}


async def start_burn_txn(
    session: AsyncSession,
    *,
    message_id: str,
    conversation_id: str,
    sender_id: str,
    burn_after_s: int,
    max_age_s: int,
    first_event_id: int,
    now: datetime,
) -> None:
    await repo.insert_burn_txn(
        session,
        BurnMessage(
            message_id=message_id,
            conversation_id=conversation_id,
            sender_id=sender_id,
            burn_after_s=burn_after_s,
            created_at=now,
            hard_expires_at=now + timedelta(seconds=max_age_s),
            first_event_id=first_event_id,
            burned_at=None,
        ),
    )


async def do_open_txn(
    session: AsyncSession, viewer_id: str, message_id: str, now: datetime
) -> BurnState | None:
    """The viewer's state after opening (None: not a burn message). The first opening by a
    recipient starts their timer; it never runs past the hard limit. The caller holds the
    message row's lock, so two openings at once make one timer."""
    burns = await repo.burns_by_id(session, [message_id])
    if not burns:
        return None
    burn = burns[0]
    readings = await repo.readings_of(session, viewer_id, [message_id])
    reading = readings[0] if readings else None
    state = _state(burn, reading, viewer_id, now)
    if state.burned or viewer_id == burn.sender_id or reading is not None:
        return state
    reading = BurnReader(
        message_id=message_id,
        user_id=viewer_id,
        opened_at=now,
        expires_at=min(now + timedelta(seconds=burn.burn_after_s), burn.hard_expires_at),
    )
    await repo.insert_reading_txn(session, reading)
    return _state(burn, reading, viewer_id, now)
