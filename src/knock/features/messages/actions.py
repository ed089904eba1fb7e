"""Messages: send (idempotent per client_msg_id), read pages, edit, recall."""

from __future__ import annotations

import bisect
import hashlib
import itertools
from collections.abc import Awaitable, Callable
from datetime import timedelta

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from knock.config import Settings
from knock.core.clock import utcnow
from knock.core.db import Database, Transaction, UniqueViolation
from knock.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from knock.core.events import Audience
from knock.core.ids import ID_LENGTH, new_id
from knock.features.burn.actions import (
    BurnState,
    burn_states,
    do_open_txn,
    sealed_state,
    start_burn_txn,
)
from knock.features.conversations.actions import (
    access_conversation,
    advance_read_seq_txn,
    check_conversation_members,
    read_seq_histogram,
    take_next_seq_txn,
    unread_by_others_of_last,
)
from knock.features.conversations.models import Conversation, ConversationMember
from knock.features.media.actions import (
    MediaLibrary,
    attach_media_txn,
    check_media_for_message_txn,
    detach_media_txn,
    media_of_messages,
)
from knock.features.messages import repository as repo
from knock.features.messages.events import MessageCreated, MessageUpdated
from knock.features.messages.models import Message
from knock.features.messages.plain import send_plain
from knock.features.messages.rows import message_out, new_message
from knock.features.messages.schemas import MENTION_ALL, MessageOut, MessagePage, SendMessageIn
from knock.features.orgs.actions import access_org, is_admin
from knock.realtime.eventlog import last_event_id, rewrite_message_frames_txn

# request_hash of a burned message: a retry then gets the burned message back, and no
# digest of the purged text is kept.
BURNED_HASH = "burned"
# The message type of an approval's card in chat; only post_approval_card_txn makes one.
APPROVAL_CARD = "approval"


async def render_messages(
    session: AsyncSession,
    viewer_id: str,
    messages: list[Message],
    unread: dict[str, int] | None = None,
) -> list[MessageOut]:
    """Messages as this viewer sees them, with their media and burn state (two queries)."""
    burns = [m.id for m in messages if m.burn_after_s is not None]
    states = await burn_states(session, viewer_id, burns, utcnow()) if burns else {}
    ids = [m.id for m in messages if m.type != "text" and not m.recalled]
    media = await media_of_messages(
        session, [i for i in ids if i not in states or not states[i].sealed]
    )
    unread = unread or {}
    return [
        message_out(m, unread.get(m.id), media=media.get(m.id), burn=states.get(m.id))
        for m in messages
    ]


def _plain_text(body: SendMessageIn) -> bool:
    return (
        body.type == "text"
        and not body.media_ids
        and not body.mentions
        and body.reply_to_id is None
        and body.burn_after_s is None
    )


def request_hash(body: SendMessageIn) -> str:
    """SHA-256 of the canonical body: a retry matches it whatever its key order or defaults."""
    fields = body.model_dump(mode="json")
    # Fields added after text messages shipped count only when set, so the digest of a
    # text message (a retry across an upgrade) does not change.
    for name, default in (("media_ids", []), ("burn_after_s", None)):
        if fields.get(name) == default:
            fields.pop(name)
    canonical = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


async def access_message(
    session: AsyncSession, user_id: str, message_id: str, *, lock: bool = False
) -> tuple[Message, Conversation, ConversationMember]:
    """The message, its conversation and the caller's membership; NotFound unless the caller
    is a member of its conversation. ``lock`` (in a transaction) locks the message row."""
    if len(message_id) > ID_LENGTH:
        raise NotFound()
    message = await (repo.lock_message_txn if lock else repo.message_by_id)(session, message_id)
    if message is None:
        raise NotFound()
    conversation, member = await access_conversation(session, user_id, message.conversation_id)
    return message, conversation, member


async def unread_counts(
    session: AsyncSession, user_id: str, messages: list[Message]
) -> dict[str, int]:
    """For the caller's own messages (of one conversation): how many other current members
    have read less than each. One query for the whole page."""
    own = [m for m in messages if m.sender_id == user_id]
    if not own:
        return {}
    histogram = sorted(
        await read_seq_histogram(session, own[0].conversation_id, user_id, max(m.seq for m in own))
    )
    read_seqs = [read_seq for read_seq, _ in histogram]
    below = list(itertools.accumulate(count for _, count in histogram))
    counts: dict[str, int] = {}
    for message in own:
        position = bisect.bisect_left(read_seqs, message.seq)
        counts[message.id] = below[position - 1] if position else 0
    return counts


async def last_messages(
    session: AsyncSession, user_id: str, conversation_ids: list[str]
) -> dict[str, MessageOut]:
    """The last message of each conversation (for the conversation list), in two queries."""
    found = await repo.last_messages(session, conversation_ids)
    own = [m.conversation_id for m in found if m.sender_id == user_id]
    unread = await unread_by_others_of_last(session, own, user_id)
    counts = {m.id: unread.get(m.conversation_id, 0) for m in found if m.sender_id == user_id}
    rendered = await render_messages(session, user_id, found, counts)
    return {m.conversation_id: m for m in rendered}


async def senders_between(
    session: AsyncSession, ranges: list[tuple[str, int, int]]
) -> dict[str, set[str]]:
    """Per conversation, the distinct senders of its messages with low < seq <= high, for
    (conversation id, low, high) ranges; one query for all of them."""
    return await repo.senders_between(session, ranges)


# (transaction, message ids) -> take these messages' photos out of every album, announcing
# it. Albums provide it; main.py passes it in (albums import messages, not the reverse).
RemoveFromAlbums = Callable[[Transaction, list[str]], Awaitable[None]]


async def _no_albums(txn: Transaction, message_ids: list[str]) -> None:
    return None


class Messages:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        media: MediaLibrary,
        remove_from_albums: RemoveFromAlbums = _no_albums,
    ) -> None:
        self._db = db
        self._settings = settings
        self._media = media
        self._remove_from_albums = remove_from_albums

    def _check_text(self, text: str) -> None:
        if len(text) > self._settings.max_text_chars:
            raise InvalidInput(f"text: at most {self._settings.max_text_chars} characters.")

    async def do_send_message(
        self, user_id: str, conversation_id: str, body: SendMessageIn
    ) -> tuple[MessageOut, bool]:
        """The new message (True), or the original one when this is a retry (False)."""
        self._check_text(body.text)
        if body.type == "text" and not body.text:
            raise InvalidInput("text: a text message needs text.")
        digest = request_hash(body)
        try:
            if _plain_text(body) and self._db.has_raw:
                if len(conversation_id) > ID_LENGTH:
                    raise NotFound()
                sent = await send_plain(self._db, user_id, conversation_id, body, digest)
                if sent is not None:
                    return sent, True
                # A retry: answered below, as every other send's.
            async with self._db.transaction() as txn:
                return await self._send_txn(txn, user_id, conversation_id, body, digest)
        except (IntegrityError, UniqueViolation):
            # A concurrent retry with the same client_msg_id committed first.
            async with self._db.read() as session:
                await access_conversation(session, user_id, conversation_id)
                existing = await repo.message_by_client_id(
                    session, conversation_id, user_id, body.client_msg_id
                )
                if existing is None:
                    raise
                return await self._replay(session, user_id, existing, digest), False

    async def _send_txn(
        self,
        txn: Transaction,
        user_id: str,
        conversation_id: str,
        body: SendMessageIn,
        digest: str,
    ) -> tuple[MessageOut, bool]:
        session = txn.session
        # access_conversation's rule (NotFound unless a member) and the retry lookup in
        # one round trip: this is the hottest write.
        if len(conversation_id) > ID_LENGTH:
            raise NotFound()
        found = await repo.conversation_for_send(
            session, conversation_id, user_id, body.client_msg_id
        )
        if found is None:
            raise NotFound()
        conversation, member, existing = found
        if existing is not None:
            return await self._replay(session, user_id, existing, digest), False
        if body.reply_to_id is not None:
            target = await repo.message_by_id(session, body.reply_to_id)
            if target is None or target.conversation_id != conversation_id:
                raise InvalidInput("reply_to_id: not a message of this conversation.")
            if target.burn_after_s is not None:
                raise InvalidInput("reply_to_id: a burn-after-reading message cannot be quoted.")
        mentions = await self._check_mentions(session, user_id, conversation, member, body.mentions)
        media_ids = await check_media_for_message_txn(session, user_id, body.type, body.media_ids)
        # Read before this message's events exist: the purge rewrites frames after it.
        first_event_id = await last_event_id(session) if body.burn_after_s is not None else 0
        now = utcnow()
        # Locks the conversation row: sends to one conversation queue here, so seqs are
        # gapless and in commit order.
        seq, member_count = await take_next_seq_txn(session, conversation_id, now)
        message = new_message(conversation_id, seq, user_id, body, digest, mentions, now)
        await repo.insert_message_txn(session, message)
        await attach_media_txn(session, media_ids, message.id, conversation_id)
        burn: BurnState | None = None
        if body.burn_after_s is not None:
            await start_burn_txn(
                session,
                message_id=message.id,
                conversation_id=conversation_id,
                sender_id=user_id,
                burn_after_s=body.burn_after_s,
                max_age_s=self._settings.burn_max_age_s,
                first_event_id=first_event_id,
                now=now,
            )
            burn = BurnState(body.burn_after_s, sealed=False)
        # The sender has read their own message. No row: they were removed meanwhile.
        if not await advance_read_seq_txn(session, conversation_id, user_id, seq):
            raise NotFound()
        media = (await media_of_messages(session, media_ids and [message.id])).get(message.id)
        # One frame for every member: a burn message's frame never holds its content.
        shared = sealed_state(burn.burn_after_s) if burn is not None else None
        txn.emit(
            MessageCreated(message=message_out(message, media=media, burn=shared)),
            Audience(conversation_id=conversation_id),
        )
        return message_out(message, member_count - 1, media=media, burn=burn), True

    async def _replay(
        self, session: AsyncSession, user_id: str, existing: Message, digest: str
    ) -> MessageOut:
        if existing.request_hash not in (digest, BURNED_HASH):
            raise Conflict(
                "This client_msg_id was already used for another message.",
                code="client_msg_id_reused",
            )
        counts = await unread_counts(session, user_id, [existing])
        return (await render_messages(session, user_id, [existing], counts))[0]

    async def _check_mentions(
        self,
        session: AsyncSession,
        user_id: str,
        conversation: Conversation,
        member: ConversationMember,
        mentions: list[str],
    ) -> list[str]:
        wanted = list(dict.fromkeys(mentions))
        if MENTION_ALL not in wanted:
            await check_conversation_members(session, conversation.id, wanted, "mentions")
            return wanted
        if len(wanted) > 1:
            raise InvalidInput('mentions: "all" stands alone.')
        big_group = (
            conversation.kind == "group"
            and conversation.member_count > self._settings.mention_all_admin_threshold
        )
        if big_group and member.role != "owner":
            org_member = await access_org(session, user_id, conversation.org_id)
            if not is_admin(org_member):
                raise Forbidden(
                    "In a group this large only the owner and team admins may mention all."
                )
        return [MENTION_ALL]

    async def messages(
        self,
        user_id: str,
        conversation_id: str,
        after_seq: int | None,
        before_seq: int | None,
        limit: int,
    ) -> MessagePage:
        if after_seq is not None and before_seq is not None:
            raise InvalidInput("Give after_seq or before_seq, not both.")
        async with self._db.read() as session:
            await access_conversation(session, user_id, conversation_id)
            rows = await repo.messages_page(
                session, conversation_id, after_seq, before_seq, limit + 1
            )
            has_more = len(rows) > limit
            page = sorted(rows[:limit], key=lambda m: m.seq)
            counts = await unread_counts(session, user_id, page)
            items = await render_messages(session, user_id, page, counts)
        return MessagePage(items=items, has_more=has_more)

    async def message(self, user_id: str, message_id: str) -> MessageOut:
        async with self._db.read() as session:
            message, _, _ = await access_message(session, user_id, message_id)
            counts = await unread_counts(session, user_id, [message])
            return (await render_messages(session, user_id, [message], counts))[0]

    async def do_open_message(self, user_id: str, message_id: str) -> MessageOut:
        """A burn message with its content for a recipient, starting their timer on the
        first opening; after their timer (or once purged) the burned placeholder. Any
        other message answers as GET does."""
        async with self._db.transaction() as txn:
            message, _, _ = await access_message(txn.session, user_id, message_id, lock=True)
            state = await do_open_txn(txn.session, user_id, message.id, utcnow())
            counts = await unread_counts(txn.session, user_id, [message])
            media = None
            if state is None or not state.sealed:
                media = (await media_of_messages(txn.session, [message.id])).get(message.id)
            return message_out(message, counts.get(message.id), media=media, burn=state)

    async def do_edit_message(self, user_id: str, message_id: str, text: str) -> MessageOut:
        self._check_text(text)
        async with self._db.transaction() as txn:
            message = await self._own_message_txn(txn, user_id, message_id)
            if message.recalled:
                raise Conflict("A recalled message cannot be edited.", code="message_recalled")
            if message.burn_after_s is not None:
                raise InvalidInput("A burn-after-reading message cannot be edited.")
            if message.type == APPROVAL_CARD:
                raise InvalidInput("An approval card cannot be edited.")
            await repo.update_message_txn(txn.session, message, text=text, edited_at=utcnow())
            return await self._updated_txn(txn, user_id, message)

    async def do_recall_message(self, user_id: str, message_id: str) -> MessageOut:
        gone: list[str] = []
        try:
            return await self._recall(user_id, message_id, gone)
        finally:
            # After commit: the message no longer shows its media; the files go too.
            await self._media.delete_files(gone)

    async def _recall(self, user_id: str, message_id: str, gone: list[str]) -> MessageOut:
        async with self._db.transaction() as txn:
            message = await self._own_message_txn(txn, user_id, message_id)
            if not message.recalled:
                window = timedelta(seconds=self._settings.recall_window_s)
                if utcnow() - message.created_at > window:
                    raise Forbidden(
                        "A message can only be recalled within "
                        f"{self._settings.recall_window_s} seconds.",
                        code="recall_window_passed",
                    )
                await repo.update_message_txn(
                    txn.session, message, text="", mentions="[]", recalled=True
                )
                await self._remove_from_albums(txn, [message.id])
                gone.extend(await detach_media_txn(txn.session, [message.id]))
                recalled = await self._updated_txn(txn, user_id, message)
                # Content removed means removed from the event log too: earlier frames get
                # the message as the recall event shows it to everyone.
                announced = txn.pending[-1].event
                assert isinstance(announced, MessageUpdated)
                await rewrite_message_frames_txn(
                    txn.session,
                    message.conversation_id,
                    message.id,
                    orjson.loads(announced.message.model_dump_json()),
                    since=message.created_at,
                )
                return recalled
            counts = await unread_counts(txn.session, user_id, [message])
            return (await render_messages(txn.session, user_id, [message], counts))[0]

    async def _own_message_txn(self, txn: Transaction, user_id: str, message_id: str) -> Message:
        message, _, _ = await access_message(txn.session, user_id, message_id, lock=True)
        if message.sender_id != user_id:
            raise Forbidden("Only the sender may change a message.")
        return message

    async def _updated_txn(self, txn: Transaction, user_id: str, message: Message) -> MessageOut:
        burn = None
        if message.burn_after_s is not None:
            burn = (await burn_states(txn.session, user_id, [message.id], utcnow())).get(message.id)
        media = None
        if message.type != "text" and not message.recalled:
            media = (await media_of_messages(txn.session, [message.id])).get(message.id)
        shared = sealed_state(burn.burn_after_s) if burn is not None else None
        txn.emit(
            MessageUpdated(message=message_out(message, media=media, burn=shared)),
            Audience(conversation_id=message.conversation_id),
        )
        counts = await unread_counts(txn.session, user_id, [message])
        return message_out(message, counts.get(message.id), media=media, burn=burn)


async def burn_message_content_txn(
    session: AsyncSession, message_id: str, burned: BurnState
) -> MessageOut | None:
    """Blank a burned message's row for good (text, mentions, body digest); returns the
    burned placeholder that replaces it everywhere (None if the message is gone)."""
    message = await repo.lock_message_txn(session, message_id)
    if message is None:
        return None
    await repo.update_message_txn(
        session, message, text="", mentions="[]", request_hash=BURNED_HASH
    )
    return message_out(message, burn=burned)


async def post_approval_card_txn(
    txn: Transaction,
    sender_id: str,
    conversation_id: str,
    approval_id: str,
    text: str,
    client_msg_id: str,
) -> MessageOut:
    """Post an approval's card (a summary and the approval id) as the sender, in the
    approval's transaction; the same client_msg_id again returns the card already posted."""
    session = txn.session
    await access_conversation(session, sender_id, conversation_id)
    existing = await repo.message_by_client_id(session, conversation_id, sender_id, client_msg_id)
    if existing is not None:
        return message_out(existing)
    now = utcnow()
    seq, _ = await take_next_seq_txn(session, conversation_id, now)
    message = Message(
        id=new_id(),
        conversation_id=conversation_id,
        seq=seq,
        sender_id=sender_id,
        client_msg_id=client_msg_id,
        request_hash=hashlib.sha256(f"{APPROVAL_CARD}:{approval_id}".encode()).hexdigest(),
        type=APPROVAL_CARD,
        text=text,
        reply_to_id=None,
        mentions="[]",
        created_at=now,
        edited_at=None,
        recalled=False,
        burn_after_s=None,
        approval_id=approval_id,
    )
    await repo.insert_message_txn(session, message)
    await advance_read_seq_txn(session, conversation_id, sender_id, seq)
    out = message_out(message)
    txn.emit(MessageCreated(message=out), Audience(conversation_id=conversation_id))
    return out
