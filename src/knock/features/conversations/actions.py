"""Conversations: dms and groups, who is in them, and the caller's read position.

Other features ask here whether a user may see a conversation (``access_conversation``) and
go through the functions below for the conversation's sequence and read cursors.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from knock.config import Settings
from knock.core.clock import utcnow
from knock.core.db import Database, Transaction
from knock.core.errors import Forbidden, InvalidInput, NotFound
from knock.core.events import Audience
from knock.core.ids import ID_LENGTH, new_id
from knock.features.conversations import repository as repo
from knock.features.conversations.events import (
    ConversationCreated,
    ConversationUpdated,
    MemberJoined,
    MemberLeft,
)
from knock.features.conversations.models import Conversation, ConversationMember
from knock.features.conversations.schemas import (
    DEFAULT_GROUP_TITLE,
    ConversationMemberOut,
    ConversationMemberPage,
    ConversationOut,
    ConversationPage,
    CreateConversationIn,
)
from knock.features.messages.schemas import MessageOut
from knock.features.orgs.actions import access_org, check_org_members, is_admin

# (session, viewer id, conversation ids) -> the last message of each that has one. Messages
# provides it; main.py passes it in (messages imports conversations, not the reverse).
LastMessages = Callable[[AsyncSession, str, list[str]], Awaitable[dict[str, MessageOut]]]

CREATED_MEMBER_IDS_MAX = 100


async def access_conversation(
    session: AsyncSession, user_id: str, conversation_id: str
) -> tuple[Conversation, ConversationMember]:
    """The conversation and the caller's membership; NotFound unless they are a member."""
    if len(conversation_id) > ID_LENGTH:
        raise NotFound()
    found = await repo.conversation_with_membership(session, conversation_id, user_id)
    if found is None:
        raise NotFound()
    return found


async def check_own_conversation_in_org(
    session: AsyncSession, user_id: str, org_id: str, conversation_id: str
) -> None:
    """InvalidInput unless the caller is a member of that conversation and it belongs to the
    team: for requests that name a conversation to post or file something into."""
    try:
        conversation, _ = await access_conversation(session, user_id, conversation_id)
    except NotFound:
        conversation = None
    if conversation is None or conversation.org_id != org_id:
        raise InvalidInput("conversation_id: not a conversation of yours in this team.")


async def check_conversation_members(
    session: AsyncSession, conversation_id: str, user_ids: list[str], field: str
) -> None:
    """InvalidInput unless every user id is a member of the conversation."""
    found = await repo.members_among(session, conversation_id, list(set(user_ids)))
    if set(user_ids) - found:
        raise InvalidInput(f"{field}: every user must be a member of the conversation.")


async def take_next_seq_txn(
    session: AsyncSession, conversation_id: str, now: datetime
) -> tuple[int, int]:
    """The conversation's next seq, gapless (the row stays locked until commit), and its
    member count."""
    return await repo.next_seq_txn(session, conversation_id, now)


async def advance_read_seq_txn(
    session: AsyncSession, conversation_id: str, user_id: str, up_to_seq: int
) -> bool:
    """Move a member's read cursor forward (never back); False if it did not move."""
    return await repo.advance_read_seq_txn(session, conversation_id, user_id, up_to_seq)


async def read_seq_histogram(
    session: AsyncSession, conversation_id: str, exclude_user_id: str, below: int
) -> list[tuple[int, int]]:
    """(read_seq, member count) of the other members who have read less than ``below``."""
    return await repo.read_seq_histogram(session, conversation_id, exclude_user_id, below)


async def unread_by_others_of_last(
    session: AsyncSession, conversation_ids: list[str], user_id: str
) -> dict[str, int]:
    """Per conversation, how many other members have not read its last message."""
    return await repo.unread_by_others_of_last(session, conversation_ids, user_id)


async def member_read_seqs(
    session: AsyncSession, conversation_id: str, exclude_user_id: str
) -> list[tuple[str, int]]:
    """(user id, read_seq) of every member but one."""
    return await repo.read_seqs(session, conversation_id, exclude_user_id)


def dm_key(org_id: str, first: str, second: str) -> str:
    low, high = sorted((first, second))
    return f"{org_id}:{low}:{high}"


def conversation_out(
    conversation: Conversation,
    read_seq: int,
    peer_id: str | None,
    last_message: MessageOut | None,
) -> ConversationOut:
    return ConversationOut(
        id=conversation.id,
        org_id=conversation.org_id,
        kind="dm" if conversation.kind == "dm" else "group",
        title=conversation.title,
        created_by=conversation.created_by,
        created_at=conversation.created_at,
        member_count=conversation.member_count,
        last_seq=conversation.last_seq,
        read_seq=read_seq,
        unread_count=max(0, conversation.last_seq - read_seq),
        last_message=last_message,
        peer_id=peer_id,
    )


def encode_page_cursor(conversation: Conversation) -> str:
    raw = f"{conversation.last_activity_at.isoformat()}|{conversation.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_page_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, conversation_id = raw.split("|", 1)
        return datetime.fromisoformat(moment), conversation_id
    except ValueError:
        raise InvalidInput("before: not a cursor this server gave out.") from None


def _unique(user_ids: list[str]) -> list[str]:
    return list(dict.fromkeys(user_ids))


class Conversations:
    def __init__(self, db: Database, settings: Settings, last_messages: LastMessages) -> None:
        self._db = db
        self._settings = settings
        self._last_messages = last_messages

    async def do_create_conversation(
        self, user_id: str, org_id: str, body: CreateConversationIn
    ) -> tuple[ConversationOut, bool]:
        """A new dm or group (True), or the pair's existing dm (False)."""
        others = [u for u in _unique(body.member_ids) if u != user_id]
        if body.kind == "dm":
            if len(others) != 1:
                raise InvalidInput("member_ids: a dm is between you and exactly one other person.")
            conversation_id, created = await self._create_dm(user_id, org_id, others[0])
            return await self.conversation(user_id, conversation_id), created
        if len(others) + 1 > self._settings.max_group_members:
            raise InvalidInput(
                f"member_ids: a group has at most {self._settings.max_group_members} members."
            )
        return await self._create_group(user_id, org_id, others, body.title), True

    async def _create_dm(self, user_id: str, org_id: str, peer_id: str) -> tuple[str, bool]:
        for attempt in range(2):
            try:
                async with self._db.transaction() as txn:
                    await access_org(txn.session, user_id, org_id)
                    await check_org_members(txn.session, org_id, [peer_id])
                    return await self.open_dm_txn(txn, org_id, user_id, peer_id)
            except IntegrityError:
                # The pair's other request inserted the dm first; the retry finds it.
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    async def open_dm_txn(
        self, txn: Transaction, org_id: str, user_id: str, peer_id: str
    ) -> tuple[str, bool]:
        """The pair's dm (both members of the org, checked by the caller), created if
        missing (True). A concurrent creation of the same dm raises IntegrityError."""
        key = dm_key(org_id, user_id, peer_id)
        existing = await repo.conversation_by_dm_key(txn.session, key)
        if existing is not None:
            await self._rejoin_dm_txn(txn, existing.id, [user_id, peer_id])
            return existing.id, False
        now = utcnow()
        conversation = self._new_conversation(org_id, "dm", None, user_id, now, 2)
        conversation.dm_key = key
        await repo.insert_conversation_txn(txn.session, conversation)
        await repo.insert_members_txn(
            txn.session,
            conversation.id,
            [(user_id, "member"), (peer_id, "member")],
            0,
            now,
        )
        self._emit_created(txn, conversation, [user_id, peer_id])
        return conversation.id, True

    async def _rejoin_dm_txn(self, txn: Transaction, conversation_id: str, pair: list[str]) -> None:
        """Someone removed from the team and invited back gets their dm back."""
        conversation = await repo.lock_conversation_txn(txn.session, conversation_id)
        assert conversation is not None
        present = await repo.members_among(txn.session, conversation_id, pair)
        missing = [u for u in pair if u not in present]
        if not missing:
            return
        await repo.insert_members_txn(
            txn.session,
            conversation_id,
            [(u, "member") for u in missing],
            conversation.last_seq,
            utcnow(),
        )
        await repo.add_to_member_count_txn(txn.session, [conversation_id], len(missing))
        txn.emit(
            MemberJoined(conversation_id=conversation_id, user_ids=missing),
            Audience(conversation_id=conversation_id),
        )

    async def _create_group(
        self, user_id: str, org_id: str, others: list[str], title: str | None
    ) -> ConversationOut:
        async with self._db.transaction() as txn:
            await access_org(txn.session, user_id, org_id)
            await check_org_members(txn.session, org_id, others)
            now = utcnow()
            conversation = self._new_conversation(
                org_id, "group", title or DEFAULT_GROUP_TITLE, user_id, now, len(others) + 1
            )
            await repo.insert_conversation_txn(txn.session, conversation)
            await repo.insert_members_txn(
                txn.session,
                conversation.id,
                [(user_id, "owner"), *((u, "member") for u in others)],
                0,
                now,
            )
            self._emit_created(txn, conversation, [user_id, *others])
        return conversation_out(conversation, 0, None, None)

    @staticmethod
    def _new_conversation(
        org_id: str, kind: str, title: str | None, user_id: str, now: datetime, members: int
    ) -> Conversation:
        return Conversation(
            id=new_id(),
            org_id=org_id,
            kind=kind,
            title=title,
            created_by=user_id,
            created_at=now,
            last_seq=0,
            last_activity_at=now,
            member_count=members,
        )

    @staticmethod
    def _emit_created(txn: Transaction, conversation: Conversation, member_ids: list[str]) -> None:
        # Every member receives this frame, so it lists at most CREATED_MEMBER_IDS_MAX of
        # them (a 10,000-member group would otherwise cost 10,000 x 10,000 ids). The nodes
        # learn the whole membership from the audience, which the frame does not carry.
        txn.emit(
            ConversationCreated(
                conversation=conversation_out(conversation, 0, None, None),
                member_ids=member_ids[:CREATED_MEMBER_IDS_MAX],
            ),
            Audience(conversation_id=conversation.id, user_ids=tuple(member_ids)),
        )

    async def conversations(
        self, user_id: str, org_id: str | None, before: str | None, limit: int
    ) -> ConversationPage:
        """A page of the caller's conversations, newest activity first, in a fixed number of
        queries whatever the page size."""
        position = decode_page_cursor(before) if before else None
        async with self._db.read() as session:
            rows = await repo.conversations_page(session, user_id, org_id, position, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            peers = await repo.dm_peers(session, [c.id for c, _ in rows if c.kind == "dm"], user_id)
            last = await self._last_messages(
                session, user_id, [c.id for c, _ in rows if c.last_seq > 0]
            )
        items = [
            conversation_out(c, read_seq, peers.get(c.id), last.get(c.id)) for c, read_seq in rows
        ]
        return ConversationPage(
            items=items, next_before=encode_page_cursor(rows[-1][0]) if more else None
        )

    async def conversation(self, user_id: str, conversation_id: str) -> ConversationOut:
        async with self._db.read() as session:
            conversation, member = await access_conversation(session, user_id, conversation_id)
            peers = (
                await repo.dm_peers(session, [conversation.id], user_id)
                if conversation.kind == "dm"
                else {}
            )
            last = (
                await self._last_messages(session, user_id, [conversation.id])
                if conversation.last_seq > 0
                else {}
            )
        return conversation_out(
            conversation, member.read_seq, peers.get(conversation.id), last.get(conversation.id)
        )

    async def do_update_conversation(
        self, user_id: str, conversation_id: str, title: str
    ) -> ConversationOut:
        async with self._db.transaction() as txn:
            conversation, _ = await access_conversation(txn.session, user_id, conversation_id)
            if conversation.kind != "group":
                raise InvalidInput("title: only a group has a title.")
            await repo.set_title_txn(txn.session, conversation_id, title)
            txn.emit(
                ConversationUpdated(conversation_id=conversation_id, title=title),
                Audience(conversation_id=conversation_id),
            )
        return await self.conversation(user_id, conversation_id)

    async def members(
        self, user_id: str, conversation_id: str, after: str | None, limit: int
    ) -> ConversationMemberPage:
        async with self._db.read() as session:
            await access_conversation(session, user_id, conversation_id)
            rows = await repo.members_page(session, conversation_id, after, limit + 1)
        more = len(rows) > limit
        items = [
            ConversationMemberOut(
                user_id=m.user_id,
                display_name=name,
                role=m.role,
                read_seq=m.read_seq,
                joined_at=m.joined_at,
            )
            for m, name in rows[:limit]
        ]
        return ConversationMemberPage(items=items, next_after=items[-1].user_id if more else None)

    async def do_add_members(
        self, user_id: str, conversation_id: str, user_ids: list[str]
    ) -> list[str]:
        """Add people of the org to a group; any member may. The ids actually added."""
        async with self._db.transaction() as txn:
            await access_conversation(txn.session, user_id, conversation_id)
            conversation = await repo.lock_conversation_txn(txn.session, conversation_id)
            assert conversation is not None
            if conversation.kind != "group":
                raise InvalidInput("user_ids: a dm has exactly its two people.")
            wanted = _unique(user_ids)
            await check_org_members(txn.session, conversation.org_id, wanted)
            present = await repo.members_among(txn.session, conversation_id, wanted)
            added = [u for u in wanted if u not in present]
            if conversation.member_count + len(added) > self._settings.max_group_members:
                raise InvalidInput(
                    f"user_ids: a group has at most {self._settings.max_group_members} members."
                )
            if added:
                # Newcomers start with nothing unread: they did not miss the history.
                await repo.insert_members_txn(
                    txn.session,
                    conversation_id,
                    [(u, "member") for u in added],
                    conversation.last_seq,
                    utcnow(),
                )
                await repo.add_to_member_count_txn(txn.session, [conversation_id], len(added))
                txn.emit(
                    MemberJoined(conversation_id=conversation_id, user_ids=added),
                    Audience(conversation_id=conversation_id),
                )
        return added

    async def do_remove_member(self, user_id: str, conversation_id: str, target_id: str) -> None:
        """Leave (target = caller) or remove someone (the group owner or an org admin)."""
        async with self._db.transaction() as txn:
            conversation, me = await access_conversation(txn.session, user_id, conversation_id)
            if conversation.kind != "group":
                raise InvalidInput("A dm cannot be left.")
            if target_id != user_id and me.role != "owner":
                org_member = await access_org(txn.session, user_id, conversation.org_id)
                if not is_admin(org_member):
                    raise Forbidden("Only the group's owner or a team admin may remove others.")
            await repo.lock_conversation_txn(txn.session, conversation_id)
            target = await repo.membership(txn.session, conversation_id, target_id)
            if target is None:
                raise NotFound()
            await self._remove_txn(txn, [(conversation_id, target.role)], target_id)

    async def do_remove_from_org_conversations_txn(
        self, txn: Transaction, org_id: str, user_id: str
    ) -> None:
        """Take someone leaving the org out of every conversation of it, dms included."""
        memberships = await repo.memberships_in_org(txn.session, org_id, user_id)
        await repo.lock_conversations_txn(txn.session, [cid for cid, _ in memberships])
        await self._remove_txn(txn, memberships, user_id)

    @staticmethod
    async def _remove_txn(
        txn: Transaction, memberships: list[tuple[str, str]], user_id: str
    ) -> None:
        """Remove the user from these (locked) conversations; the longest-standing member
        inherits a group the user owned."""
        conversation_ids = [cid for cid, _ in memberships]
        await repo.delete_memberships_txn(txn.session, conversation_ids, user_id)
        await repo.add_to_member_count_txn(txn.session, conversation_ids, -1)
        for conversation_id, role in memberships:
            if role == "owner":
                await repo.promote_longest_standing_txn(txn.session, conversation_id)
            txn.emit(
                MemberLeft(conversation_id=conversation_id, user_id=user_id),
                Audience(conversation_id=conversation_id, user_ids=(user_id,)),
            )
