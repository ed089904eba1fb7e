"""DING: urgent messages each recipient must confirm, escalated (in-app, email, gateway)
until they do. The ladder's state lives in ``ding_recipients``; ``escalation.py`` walks it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from knock.config import Settings
from knock.core.clock import utcnow
from knock.core.db import Database, Transaction
from knock.core.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from knock.core.events import Audience
from knock.core.ids import ID_LENGTH, new_id
from knock.features.conversations.actions import check_conversation_members
from knock.features.ding import repository as repo
from knock.features.ding.events import DingCreated, DingUpdated
from knock.features.ding.ladder import restart
from knock.features.ding.models import Ding, DingRecipient, DingSend, DingSettings
from knock.features.ding.schemas import (
    Box,
    CreateDingIn,
    DingOut,
    DingPage,
    DingRecipientOut,
    DingSettingsIn,
    DingSettingsOut,
    RedingIn,
)
from knock.features.messages.actions import access_message
from knock.features.orgs.actions import access_org, access_org_for_change_txn, check_admin

SEND_WINDOW = timedelta(hours=1)
DEFAULT_EMAIL_AFTER_S = 5 * 60
DEFAULT_GATEWAY_AFTER_S = 15 * 60


def recipient_out(recipient: DingRecipient) -> DingRecipientOut:
    return DingRecipientOut(
        user_id=recipient.user_id,
        confirmed_at=recipient.confirmed_at,
        dinged_at=recipient.dinged_at,
        last_step=recipient.last_step,
        last_step_at=recipient.last_step_at,
        next_step=recipient.next_step,
        next_step_at=recipient.next_step_at,
    )


def ding_out(ding: Ding, recipients: list[DingRecipient]) -> DingOut:
    return DingOut(
        id=ding.id,
        org_id=ding.org_id,
        sender_id=ding.sender_id,
        client_ding_id=ding.client_ding_id,
        text=ding.text,
        message_id=ding.message_id,
        conversation_id=ding.conversation_id,
        created_at=ding.created_at,
        recipient_count=ding.recipient_count,
        recipients=[recipient_out(r) for r in recipients],
    )


def request_hash(org_id: str, body: CreateDingIn) -> str:
    canonical = orjson.dumps(
        {"org_id": org_id, **body.model_dump(mode="json")}, option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(canonical).hexdigest()


async def access_ding(session: AsyncSession, user_id: str, ding_id: str) -> Ding:
    """The DING if the caller sent or received it and is still in its team; else NotFound."""
    if len(ding_id) > ID_LENGTH:
        raise NotFound()
    ding = await repo.ding_by_id(session, ding_id)
    if ding is None or not await repo.members_among(session, ding.org_id, [user_id]):
        raise NotFound()
    if ding.sender_id != user_id and not await repo.recipients_of(session, [ding.id], user_id):
        raise NotFound()
    return ding


async def view_of(session: AsyncSession, ding: Ding, viewer_id: str) -> DingOut:
    """The sender sees every recipient; a recipient their own entry."""
    mine = None if viewer_id == ding.sender_id else viewer_id
    return ding_out(ding, await repo.recipients_of(session, [ding.id], mine))


class Dings:
    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings

    def _default_settings(self, org_id: str) -> DingSettings:
        floor = self._settings.ding_min_step_s
        email_after_s = max(DEFAULT_EMAIL_AFTER_S, floor)
        return DingSettings(
            org_id=org_id,
            email_after_s=email_after_s,
            gateway_after_s=max(DEFAULT_GATEWAY_AFTER_S, email_after_s + floor),
            email_enabled=True,
            gateway_enabled=True,
        )

    def _settings_out(self, row: DingSettings) -> DingSettingsOut:
        return DingSettingsOut(
            org_id=row.org_id,
            email_after_s=row.email_after_s,
            gateway_after_s=row.gateway_after_s,
            email_enabled=row.email_enabled,
            gateway_enabled=row.gateway_enabled,
            email_available=bool(self._settings.smtp_host),
            gateway_available=bool(self._settings.ding_gateway_url),
            min_step_s=self._settings.ding_min_step_s,
        )

    async def _ladder_of(self, session: AsyncSession, org_id: str) -> DingSettings:
        return await repo.settings_of(session, org_id) or self._default_settings(org_id)

    def _check_create(self, user_id: str, body: CreateDingIn) -> list[str]:
        recipients = list(dict.fromkeys(body.recipient_ids))
        most = self._settings.ding_max_recipients
        if len(recipients) > most:
            raise InvalidInput(
                f"recipient_ids: at most {most} people per DING.", code="too_many_recipients"
            )
        if user_id in recipients:
            raise InvalidInput("recipient_ids: you cannot DING yourself.")
        if len(body.text) > self._settings.max_text_chars:
            raise InvalidInput(f"text: at most {self._settings.max_text_chars} characters.")
        if body.message_id is None and not body.text.strip():
            raise InvalidInput("text: a DING needs a text or a message_id.")
        return recipients

    async def _check_rate_txn(self, txn: Transaction, user_id: str, now: datetime) -> None:
        """RateLimited once the sender made KNOCK_DING_PER_HOUR DINGs and re-DINGs in the
        last hour; the count is in the database, so it holds across nodes."""
        await repo.lock_sender_txn(txn.session, user_id)
        count, oldest = await repo.sends_since(txn.session, user_id, now - SEND_WINDOW)
        if count >= self._settings.ding_per_hour and oldest is not None:
            wait = (oldest + SEND_WINDOW - now).total_seconds()
            raise RateLimited(
                int(wait) + 1,
                f"At most {self._settings.ding_per_hour} DINGs and re-DINGs per hour.",
            )

    async def do_create_ding(
        self, user_id: str, org_id: str, body: CreateDingIn
    ) -> tuple[DingOut, bool]:
        """The new DING (True), or the original when this is a retry (False)."""
        recipients = self._check_create(user_id, body)
        digest = request_hash(org_id, body)
        try:
            async with self._db.transaction() as txn:
                return await self._create_txn(txn, user_id, org_id, body, recipients, digest)
        except IntegrityError:
            # A concurrent retry with the same client_ding_id committed first.
            async with self._db.read() as session:
                existing = await repo.ding_by_client_id(session, user_id, body.client_ding_id)
                if existing is None:
                    raise
                return await self._replay(session, user_id, existing, digest), False

    async def _replay(
        self, session: AsyncSession, user_id: str, existing: Ding, digest: str
    ) -> DingOut:
        if existing.request_hash != digest:
            raise Conflict(
                "This client_ding_id was already used for another DING.",
                code="client_ding_id_reused",
            )
        return await view_of(session, await access_ding(session, user_id, existing.id), user_id)

    async def _check_message(
        self, session: AsyncSession, user_id: str, org_id: str, message_id: str, to: list[str]
    ) -> str:
        """The conversation of a DINGed message the sender and every recipient can see."""
        try:
            message, conversation, _ = await access_message(session, user_id, message_id)
        except NotFound:
            raise InvalidInput("message_id: no such message.") from None
        if conversation.org_id != org_id:
            raise InvalidInput("message_id: no such message.")
        if message.burn_after_s is not None:
            raise InvalidInput("message_id: a burn-after-reading message cannot be DINGed.")
        if message.recalled:
            raise InvalidInput("message_id: the message was recalled.")
        await check_conversation_members(session, conversation.id, to, "recipient_ids")
        return conversation.id

    async def _create_txn(
        self,
        txn: Transaction,
        user_id: str,
        org_id: str,
        body: CreateDingIn,
        recipient_ids: list[str],
        digest: str,
    ) -> tuple[DingOut, bool]:
        session = txn.session
        await access_org(session, user_id, org_id)
        existing = await repo.ding_by_client_id(session, user_id, body.client_ding_id)
        if existing is not None:
            return await self._replay(session, user_id, existing, digest), False
        now = utcnow()
        await self._check_rate_txn(txn, user_id, now)
        if set(recipient_ids) - await repo.members_among(session, org_id, recipient_ids):
            raise InvalidInput(
                "recipient_ids: everyone must belong to the team.", code="not_org_members"
            )
        conversation_id = None
        if body.message_id is not None:
            conversation_id = await self._check_message(
                session, user_id, org_id, body.message_id, recipient_ids
            )
        ladder = await self._ladder_of(session, org_id)
        ding = Ding(
            id=new_id(),
            org_id=org_id,
            sender_id=user_id,
            client_ding_id=body.client_ding_id,
            request_hash=digest,
            text=body.text,
            message_id=body.message_id,
            conversation_id=conversation_id,
            recipient_count=len(recipient_ids),
            email_after_s=ladder.email_after_s,
            gateway_after_s=ladder.gateway_after_s,
            email_enabled=ladder.email_enabled,
            gateway_enabled=ladder.gateway_enabled,
            created_at=now,
        )
        recipients = []
        for recipient_id in sorted(recipient_ids):
            recipient = DingRecipient(ding_id=ding.id, user_id=recipient_id, confirmed_at=None)
            restart(ding, recipient, now)
            recipients.append(recipient)
        await repo.insert_ding_txn(session, ding, recipients)
        await repo.insert_send_txn(
            session, DingSend(id=new_id(), sender_id=user_id, ding_id=ding.id, created_at=now)
        )
        full = ding_out(ding, recipients)
        txn.emit(DingCreated(ding=full), Audience(user_ids=(user_id,)))
        for recipient in recipients:
            txn.emit(
                DingCreated(ding=ding_out(ding, [recipient])),
                Audience(user_ids=(recipient.user_id,)),
            )
        return full, True

    async def ding(self, user_id: str, ding_id: str) -> DingOut:
        async with self._db.read() as session:
            return await view_of(session, await access_ding(session, user_id, ding_id), user_id)

    async def do_confirm(self, user_id: str, ding_id: str) -> DingOut:
        """The recipient has seen it: their ladder stops. Confirming again changes nothing."""
        async with self._db.transaction() as txn:
            ding = await access_ding(txn.session, user_id, ding_id)
            recipient = await repo.lock_recipient_txn(txn.session, ding.id, user_id)
            if recipient is None:
                raise Forbidden("Only a recipient confirms a DING.")
            if recipient.confirmed_at is None:
                recipient.confirmed_at = utcnow()
                recipient.next_step = None
                recipient.next_step_at = None
                await txn.session.flush()
                txn.emit(
                    DingUpdated(
                        ding_id=ding.id,
                        org_id=ding.org_id,
                        change="confirmed",
                        recipient=recipient_out(recipient),
                    ),
                    Audience(user_ids=(ding.sender_id, user_id)),
                )
            return ding_out(ding, [recipient])

    async def do_reding(self, user_id: str, ding_id: str, body: RedingIn) -> DingOut:
        """Alert unconfirmed recipients again and start their ladders over. The sender only;
        counts against the hourly limit."""
        async with self._db.transaction() as txn:
            session = txn.session
            ding = await access_ding(session, user_id, ding_id)
            if ding.sender_id != user_id:
                raise Forbidden("Only the sender may re-DING.")
            recipients = await repo.lock_recipients_txn(session, ding.id)
            wanted = set(body.recipient_ids or [r.user_id for r in recipients])
            if wanted - {r.user_id for r in recipients}:
                raise InvalidInput("recipient_ids: everyone must be a recipient of this DING.")
            in_team = await repo.members_among(session, ding.org_id, sorted(wanted))
            targets = [
                r
                for r in recipients
                if r.user_id in wanted and r.user_id in in_team and r.confirmed_at is None
            ]
            if not targets:
                raise Conflict("Everyone asked for has confirmed already.", code="all_confirmed")
            now = utcnow()
            await self._check_rate_txn(txn, user_id, now)
            await repo.insert_send_txn(
                session, DingSend(id=new_id(), sender_id=user_id, ding_id=ding.id, created_at=now)
            )
            for recipient in targets:
                restart(ding, recipient, now)
                txn.emit(
                    DingUpdated(
                        ding_id=ding.id,
                        org_id=ding.org_id,
                        change="reding",
                        recipient=recipient_out(recipient),
                    ),
                    Audience(user_ids=(user_id, recipient.user_id)),
                )
            await session.flush()
            return ding_out(ding, recipients)

    async def dings(
        self,
        user_id: str,
        org_id: str,
        box: Box,
        unconfirmed: bool | None,
        before: str | None,
        limit: int,
    ) -> DingPage:
        async with self._db.read() as session:
            await access_org(session, user_id, org_id)
            rows = await repo.dings_page(
                session, org_id, user_id, box, unconfirmed, before, limit + 1
            )
            page = rows[:limit]
            mine = user_id if box == "received" else None
            recipients = await repo.recipients_of(session, [d.id for d in page], mine)
        by_ding: dict[str, list[DingRecipient]] = {}
        for recipient in recipients:
            by_ding.setdefault(recipient.ding_id, []).append(recipient)
        return DingPage(
            items=[ding_out(d, by_ding.get(d.id, [])) for d in page],
            next_before=page[-1].id if len(rows) > limit else None,
        )

    async def ding_settings(self, user_id: str, org_id: str) -> DingSettingsOut:
        async with self._db.read() as session:
            await access_org(session, user_id, org_id)
            return self._settings_out(await self._ladder_of(session, org_id))

    async def do_update_ding_settings(
        self, user_id: str, org_id: str, body: DingSettingsIn
    ) -> DingSettingsOut:
        """Set the team's ladder (for DINGs sent from now on). Team admins only."""
        floor = self._settings.ding_min_step_s
        for name in ("email_after_s", "gateway_after_s"):
            if getattr(body, name) < floor:
                raise InvalidInput(f"{name}: at least {floor} seconds on this server.")
        both = body.email_enabled and body.gateway_enabled
        if both and body.gateway_after_s <= body.email_after_s:
            raise InvalidInput("gateway_after_s: must come after email_after_s.")
        async with self._db.transaction() as txn:
            check_admin(await access_org_for_change_txn(txn, user_id, org_id))
            row = await repo.settings_of(txn.session, org_id)
            if row is None:
                row = DingSettings(org_id=org_id)
            row.email_after_s = body.email_after_s
            row.gateway_after_s = body.gateway_after_s
            row.email_enabled = body.email_enabled
            row.gateway_enabled = body.gateway_enabled
            row.updated_at = utcnow()
            await repo.save_settings_txn(txn.session, row)
            return self._settings_out(row)
