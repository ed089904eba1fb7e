"""Orgs (teams): who belongs, with which role. Other features ask here who may see what."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from knock.config import Settings
from knock.core.clock import utcnow
from knock.core.db import Database, Transaction
from knock.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from knock.core.events import Audience
from knock.core.ids import new_id
from knock.features.accounts.actions import Viewer, users_brief
from knock.features.orgs import repository as repo
from knock.features.orgs.events import (
    OrgDepartmentCreated,
    OrgDepartmentUpdated,
    OrgMemberJoined,
    OrgMemberRemoved,
    OrgMemberUpdated,
)
from knock.features.orgs.models import Department, Invite, Org, OrgMember
from knock.features.orgs.schemas import (
    DepartmentIn,
    DepartmentList,
    DepartmentOut,
    DepartmentUpdateIn,
    InviteAccepted,
    InviteIn,
    InviteOut,
    InvitePreview,
    MemberOut,
    MemberUpdateIn,
    OrgIn,
    OrgList,
    OrgMemberPage,
    OrgOut,
)

ADMIN_ROLES = frozenset({"owner", "admin"})
MAX_INVITE_CODE_CHARS = 32

# Takes a removed member out of every conversation of the org, in the removing transaction.
RemoveFromOrgConversations = Callable[[Transaction, str, str], Awaitable[None]]


@dataclass(frozen=True)
class OrgLimits:
    orgs_per_user: int = 100
    members_per_org: int = 100_000
    live_invites_per_org: int = 200
    departments_per_org: int = 1000
    department_depth: int = 10


async def access_org(session: AsyncSession, user_id: str, org_id: str) -> OrgMember:
    """The caller's membership; NotFound if the org does not exist or they are not in it."""
    member = await repo.membership(session, org_id, user_id)
    if member is None:
        raise NotFound()
    return member


def is_admin(member: OrgMember) -> bool:
    return member.role in ADMIN_ROLES


async def check_org_members(session: AsyncSession, org_id: str, user_ids: list[str]) -> None:
    """InvalidInput unless every user id belongs to the org."""
    found = await repo.members_among(session, org_id, list(set(user_ids)))
    missing = set(user_ids) - found
    if missing:
        raise InvalidInput("Every member must belong to the team.", code="not_org_members")


async def check_head(session: AsyncSession, org_id: str, user_id: str) -> None:
    if await repo.membership(session, org_id, user_id) is None:
        raise InvalidInput("head_id: the head must be a member of the team.")


async def members_with_title(
    session: AsyncSession, org_id: str, title: str, limit: int
) -> list[str]:
    """Members holding a job title (at most ``limit``), for approval routing."""
    return await repo.members_with_title(session, org_id, title, limit)


async def admins_of_org(session: AsyncSession, org_id: str, limit: int) -> list[str]:
    """The org's owners and admins (at most ``limit``)."""
    return await repo.admins_of_org(session, org_id, limit)


async def members_among(session: AsyncSession, org_id: str, user_ids: list[str]) -> set[str]:
    """Which of these users belong to the org."""
    return await repo.members_among(session, org_id, list(set(user_ids)))


async def departments_of_org(session: AsyncSession, org_id: str) -> list[Department]:
    return await repo.departments_of_org(session, org_id)


def check_admin(member: OrgMember) -> None:
    if not is_admin(member):
        raise Forbidden("Only the team's owners and admins may do this.")


async def access_org_for_change_txn(txn: Transaction, user_id: str, org_id: str) -> OrgMember:
    """The caller's membership, read after locking the org so it cannot change under us."""
    if await repo.lock_org_txn(txn.session, org_id) is None:
        raise NotFound()
    return await access_org(txn.session, user_id, org_id)


async def check_not_last_owner(session: AsyncSession, member: OrgMember) -> None:
    """Conflict if this member is the org's only owner (a team always keeps one)."""
    if member.role == "owner" and await repo.count_members(session, member.org_id, "owner") <= 1:
        raise Conflict(
            "The team's last owner cannot step down or leave; make someone else owner first.",
            code="last_owner",
        )


async def check_department(session: AsyncSession, org_id: str, department_id: str) -> None:
    if await repo.department_in_org(session, org_id, department_id) is None:
        raise InvalidInput("department_id: no such department in this team.")


async def member_outs(session: AsyncSession, members: list[OrgMember]) -> list[MemberOut]:
    """Members as the API shows them, with names and emails from accounts."""
    brief = await users_brief(session, [m.user_id for m in members])
    titles = (
        await repo.titles_of_members(session, members[0].org_id, [m.user_id for m in members])
        if members
        else {}
    )
    return [
        MemberOut(
            user_id=m.user_id,
            display_name=brief.get(m.user_id, ("", ""))[0],
            email=brief.get(m.user_id, ("", ""))[1],
            role=m.role,
            department_id=m.department_id,
            joined_at=m.joined_at,
            titles=titles.get(m.user_id, []),
        )
        for m in members
    ]


def org_out(org: Org, role: str) -> OrgOut:
    return OrgOut(id=org.id, name=org.name, created_at=org.created_at, role=role)


def department_out(department: Department) -> DepartmentOut:
    return DepartmentOut(
        id=department.id,
        org_id=department.org_id,
        name=department.name,
        parent_id=department.parent_id,
        head_id=department.head_id,
    )


def invite_out(invite: Invite) -> InviteOut:
    return InviteOut(
        code=invite.code,
        org_id=invite.org_id,
        role=invite.role,
        max_uses=invite.max_uses,
        uses=invite.uses,
        expires_at=invite.expires_at,
    )


class Orgs:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        remove_from_org_conversations: RemoveFromOrgConversations,
        limits: OrgLimits | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._remove_from_org_conversations = remove_from_org_conversations
        self.limits = limits or OrgLimits()

    # -- orgs ---------------------------------------------------------------------------

    async def do_create_org(self, viewer: Viewer, body: OrgIn) -> OrgOut:
        now = utcnow()
        org = Org(id=new_id(), name=body.name, created_by=viewer.user_id, created_at=now)
        async with self._db.transaction() as txn:
            await self._check_org_count_txn(txn, viewer.user_id)
            repo.add_org_txn(txn.session, org)
            await self._add_member_txn(txn, org.id, viewer.user_id, "owner")
        return org_out(org, "owner")

    async def list_orgs(self, viewer: Viewer) -> OrgList:
        async with self._db.read() as session:
            rows = await repo.orgs_of_user(session, viewer.user_id)
        return OrgList(items=[org_out(org, role) for org, role in rows])

    async def get_org(self, viewer: Viewer, org_id: str) -> OrgOut:
        async with self._db.read() as session:
            member = await access_org(session, viewer.user_id, org_id)
            org = await repo.org_by_id(session, org_id)
        assert org is not None
        return org_out(org, member.role)

    # -- members ------------------------------------------------------------------------

    async def list_members(
        self, viewer: Viewer, org_id: str, after: str | None, limit: int
    ) -> OrgMemberPage:
        async with self._db.read() as session:
            await access_org(session, viewer.user_id, org_id)
            members = await repo.members_page(session, org_id, after, limit + 1)
            items = await member_outs(session, members[:limit])
        next_after = items[-1].user_id if len(members) > limit else None
        return OrgMemberPage(items=items, next_after=next_after)

    async def do_update_member(
        self, viewer: Viewer, org_id: str, user_id: str, body: MemberUpdateIn
    ) -> MemberOut:
        async with self._db.transaction() as txn:
            caller = await access_org_for_change_txn(txn, viewer.user_id, org_id)
            check_admin(caller)
            target = await repo.membership(txn.session, org_id, user_id)
            if target is None:
                raise NotFound()
            changed = False
            if body.role is not None and body.role != target.role:
                if "owner" in (body.role, target.role) and caller.role != "owner":
                    raise Forbidden("Only an owner may grant or take away the owner role.")
                await check_not_last_owner(txn.session, target)
                target.role = body.role
                changed = True
            if "department_id" in body.model_fields_set and body.department_id != (
                target.department_id
            ):
                if body.department_id is not None:
                    await check_department(txn.session, org_id, body.department_id)
                target.department_id = body.department_id
                changed = True
            if body.titles is not None:
                wanted = sorted(set(body.titles))
                current = (await repo.titles_of_members(txn.session, org_id, [user_id])).get(
                    user_id, []
                )
                if wanted != current:
                    await repo.replace_titles_txn(txn.session, org_id, user_id, wanted)
                    changed = True
            await txn.session.flush()
            (member,) = await member_outs(txn.session, [target])
            if changed:
                txn.emit(OrgMemberUpdated(org_id=org_id, member=member), Audience(org_id=org_id))
        return member

    async def do_remove_member(self, viewer: Viewer, org_id: str, user_id: str) -> None:
        """Remove someone (admins) or leave (anyone); access ends with this transaction."""
        async with self._db.transaction() as txn:
            caller = await access_org_for_change_txn(txn, viewer.user_id, org_id)
            if user_id != viewer.user_id:
                check_admin(caller)
            target = await repo.membership(txn.session, org_id, user_id)
            if target is None:
                raise NotFound()
            if target.role == "owner" and caller.role != "owner":
                raise Forbidden("Only an owner may remove an owner.")
            await check_not_last_owner(txn.session, target)
            for department in await repo.clear_head_txn(txn.session, org_id, user_id):
                found = await repo.department_in_org(txn.session, org_id, department)
                assert found is not None
                txn.emit(
                    OrgDepartmentUpdated(department=department_out(found)),
                    Audience(org_id=org_id),
                )
            await repo.delete_member_txn(txn.session, org_id, user_id)
            await self._remove_from_org_conversations(txn, org_id, user_id)
            txn.emit(
                OrgMemberRemoved(org_id=org_id, user_id=user_id),
                Audience(org_id=org_id, user_ids=(user_id,)),
            )

    # -- invites ------------------------------------------------------------------------

    async def do_create_invite(self, viewer: Viewer, org_id: str, body: InviteIn) -> InviteOut:
        now = utcnow()
        async with self._db.transaction() as txn:
            caller = await access_org_for_change_txn(txn, viewer.user_id, org_id)
            check_admin(caller)
            live = await repo.count_live_invites(txn.session, org_id, now)
            if live >= self.limits.live_invites_per_org:
                raise Conflict(
                    f"A team has at most {self.limits.live_invites_per_org} open invites; "
                    "wait for some to expire or be used up.",
                    code="invite_limit_reached",
                )
            invite = Invite(
                code=secrets.token_urlsafe(12),
                org_id=org_id,
                role=body.role,
                max_uses=body.max_uses,
                uses=0,
                expires_at=now + timedelta(seconds=body.expires_in_s),
                created_by=viewer.user_id,
                created_at=now,
            )
            await repo.add_invite_txn(txn.session, invite)
        return invite_out(invite)

    async def preview_invite(self, code: str) -> InvitePreview:
        """What an invite leads to; NotFound if unknown, expired or used up."""
        if len(code) > MAX_INVITE_CODE_CHARS:
            raise NotFound()
        async with self._db.read() as session:
            found = await repo.live_invite(session, code, utcnow())
        if found is None:
            raise NotFound()
        invite, org = found
        return InvitePreview(
            org_id=org.id,
            org_name=org.name,
            role=invite.role,
            expires_at=invite.expires_at,
        )

    async def do_accept_invite(self, viewer: Viewer, code: str) -> InviteAccepted:
        if len(code) > MAX_INVITE_CODE_CHARS:
            raise NotFound()
        try:
            return await self._accept_invite(viewer, code)
        except IntegrityError:
            # The same person accepted twice at once and the other acceptance won; this
            # attempt rolled back (its use with it) and now finds them a member.
            return await self._accept_invite(viewer, code)

    async def _accept_invite(self, viewer: Viewer, code: str) -> InviteAccepted:
        async with self._db.transaction() as txn:
            now = utcnow()
            found = await repo.live_invite(txn.session, code, now)
            if found is None:
                raise NotFound()
            invite, org = found
            existing = await repo.membership(txn.session, org.id, viewer.user_id)
            if existing is not None:
                return InviteAccepted(
                    org_id=org.id,
                    org=org_out(org, existing.role),
                    role=existing.role,
                )
            if not await repo.consume_invite_use_txn(txn.session, code, now):
                raise NotFound()
            await self._check_org_count_txn(txn, viewer.user_id)
            if await repo.count_members(txn.session, org.id) >= self.limits.members_per_org:
                raise Conflict(
                    f"A team has at most {self.limits.members_per_org} members.",
                    code="member_limit_reached",
                )
            await self._add_member_txn(txn, org.id, viewer.user_id, invite.role)
        return InviteAccepted(
            org_id=org.id,
            org=org_out(org, invite.role),
            role=invite.role,
        )

    # -- departments --------------------------------------------------------------------

    async def do_create_department(
        self, viewer: Viewer, org_id: str, body: DepartmentIn
    ) -> DepartmentOut:
        async with self._db.transaction() as txn:
            caller = await access_org_for_change_txn(txn, viewer.user_id, org_id)
            check_admin(caller)
            existing = await repo.departments_of_org(txn.session, org_id)
            if len(existing) >= self.limits.departments_per_org:
                raise Conflict(
                    f"A team has at most {self.limits.departments_per_org} departments.",
                    code="department_limit_reached",
                )
            if body.parent_id is not None:
                self._check_parent(existing, body.parent_id)
            if body.head_id is not None:
                await check_head(txn.session, org_id, body.head_id)
            department = Department(
                id=new_id(),
                org_id=org_id,
                name=body.name,
                parent_id=body.parent_id,
                created_at=utcnow(),
                head_id=body.head_id,
            )
            await repo.add_department_txn(txn.session, department)
            out = department_out(department)
            txn.emit(OrgDepartmentCreated(department=out), Audience(org_id=org_id))
        return out

    async def do_update_department(
        self, viewer: Viewer, org_id: str, department_id: str, body: DepartmentUpdateIn
    ) -> DepartmentOut:
        """Rename, move (no cycles, ≤ 10 deep) or set the head of a department. Admins."""
        async with self._db.transaction() as txn:
            caller = await access_org_for_change_txn(txn, viewer.user_id, org_id)
            department = await repo.department_in_org(txn.session, org_id, department_id)
            if department is None:
                raise NotFound()
            check_admin(caller)
            sent = body.model_fields_set
            if body.name is not None:
                department.name = body.name
            if "parent_id" in sent and body.parent_id != department.parent_id:
                existing = await repo.departments_of_org(txn.session, org_id)
                self._check_move(existing, department, body.parent_id)
                department.parent_id = body.parent_id
            if "head_id" in sent and body.head_id is not None:
                await check_head(txn.session, org_id, body.head_id)
            if "head_id" in sent:
                department.head_id = body.head_id
            await txn.session.flush()
            out = department_out(department)
            txn.emit(OrgDepartmentUpdated(department=out), Audience(org_id=org_id))
        return out

    def _check_move(
        self, departments: list[Department], department: Department, parent_id: str | None
    ) -> None:
        """InvalidInput if the new parent is the department itself or below it, or the
        subtree would nest too deep."""
        if parent_id is None:
            return
        children: dict[str, list[str]] = {}
        for d in departments:
            if d.parent_id is not None:
                children.setdefault(d.parent_id, []).append(d.id)
        below: set[str] = set()
        height, frontier = 0, [department.id]
        while frontier:
            height += 1
            below.update(frontier)
            frontier = [c for f in frontier for c in children.get(f, [])]
        if parent_id in below:
            raise InvalidInput("parent_id: a department cannot move under itself.")
        parents = {d.id: d.parent_id for d in departments}
        if parent_id not in parents:
            raise InvalidInput("parent_id: no such department in this team.")
        depth = height
        current: str | None = parent_id
        while current is not None:
            depth += 1
            current = parents.get(current)
        if depth > self.limits.department_depth:
            raise InvalidInput(
                f"parent_id: departments nest at most {self.limits.department_depth} deep."
            )

    async def list_departments(self, viewer: Viewer, org_id: str) -> DepartmentList:
        async with self._db.read() as session:
            await access_org(session, viewer.user_id, org_id)
            departments = await repo.departments_of_org(session, org_id)
        return DepartmentList(items=[department_out(d) for d in departments])

    def _check_parent(self, departments: list[Department], parent_id: str) -> None:
        """InvalidInput unless the parent is in this org and a child would not nest too deep."""
        parents = {d.id: d.parent_id for d in departments}
        if parent_id not in parents:
            raise InvalidInput("parent_id: no such department in this team.")
        depth = 1  # the new department itself
        current: str | None = parent_id
        while current is not None:
            depth += 1
            if depth > self.limits.department_depth:
                raise InvalidInput(
                    f"parent_id: departments nest at most {self.limits.department_depth} deep."
                )
            current = parents.get(current)

    # -- shared steps -------------------------------------------------------------------

    async def _check_org_count_txn(self, txn: Transaction, user_id: str) -> None:
        if await repo.count_orgs_of_user(txn.session, user_id) >= self.limits.orgs_per_user:
            raise Conflict(
                f"One person belongs to at most {self.limits.orgs_per_user} teams.",
                code="org_limit_reached",
            )

    async def _add_member_txn(self, txn: Transaction, org_id: str, user_id: str, role: str) -> None:
        member = OrgMember(
            org_id=org_id, user_id=user_id, role=role, department_id=None, joined_at=utcnow()
        )
        await repo.add_member_txn(txn.session, member)
        (out,) = await member_outs(txn.session, [member])
        txn.emit(OrgMemberJoined(org_id=org_id, member=out), Audience(org_id=org_id))
