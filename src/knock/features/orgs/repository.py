"""SQL for orgs: orgs, memberships, invites, departments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knock.features.orgs.models import Department, Invite, Org, OrgMember, OrgMemberTitle


async def membership(session: AsyncSession, org_id: str, user_id: str) -> OrgMember | None:
    return await session.get(OrgMember, (org_id, user_id))


async def members_among(session: AsyncSession, org_id: str, user_ids: list[str]) -> set[str]:
    if not user_ids:
        return set()
    rows = await session.execute(
        select(OrgMember.user_id).where(OrgMember.org_id == org_id, OrgMember.user_id.in_(user_ids))
    )
    return {row[0] for row in rows}


async def org_by_id(session: AsyncSession, org_id: str) -> Org | None:
    return await session.get(Org, org_id)


async def lock_org_txn(session: AsyncSession, org_id: str) -> Org | None:
    """The org row, locked until commit: serializes role, invite and department changes.

    FOR NO KEY UPDATE still lets new members (rows referencing the org) be inserted.
    SQLite needs no lock: its writers already run one at a time.
    """
    return (
        await session.execute(select(Org).where(Org.id == org_id).with_for_update(key_share=True))
    ).scalar_one_or_none()


async def orgs_of_user(session: AsyncSession, user_id: str) -> list[tuple[Org, str]]:
    """The user's orgs with their role in each, by name."""
    rows = await session.execute(
        select(Org, OrgMember.role)
        .join(OrgMember, OrgMember.org_id == Org.id)
        .where(OrgMember.user_id == user_id)
        .order_by(Org.name, Org.id)
    )
    return [(org, role) for org, role in rows]


async def count_orgs_of_user(session: AsyncSession, user_id: str) -> int:
    return int(
        (
            await session.execute(
                select(func.count()).select_from(OrgMember).where(OrgMember.user_id == user_id)
            )
        ).scalar_one()
    )


async def count_members(session: AsyncSession, org_id: str, role: str | None = None) -> int:
    query = select(func.count()).select_from(OrgMember).where(OrgMember.org_id == org_id)
    if role is not None:
        query = query.where(OrgMember.role == role)
    return int((await session.execute(query)).scalar_one())


async def members_page(
    session: AsyncSession, org_id: str, after: str | None, limit: int
) -> list[OrgMember]:
    query = select(OrgMember).where(OrgMember.org_id == org_id)
    if after is not None:
        query = query.where(OrgMember.user_id > after)
    return list((await session.execute(query.order_by(OrgMember.user_id).limit(limit))).scalars())


def add_org_txn(session: AsyncSession, org: Org) -> None:
    session.add(org)


async def add_member_txn(session: AsyncSession, member: OrgMember) -> None:
    session.add(member)
    await session.flush()


async def delete_member_txn(session: AsyncSession, org_id: str, user_id: str) -> None:
    await session.execute(
        delete(OrgMember).where(OrgMember.org_id == org_id, OrgMember.user_id == user_id)
    )


async def add_invite_txn(session: AsyncSession, invite: Invite) -> None:
    session.add(invite)
    await session.flush()


async def count_live_invites(session: AsyncSession, org_id: str, now: datetime) -> int:
    return int(
        (
            await session.execute(
                select(func.count())
                .select_from(Invite)
                .where(
                    Invite.org_id == org_id,
                    Invite.expires_at > now,
                    Invite.uses < Invite.max_uses,
                )
            )
        ).scalar_one()
    )


async def live_invite(session: AsyncSession, code: str, now: datetime) -> tuple[Invite, Org] | None:
    """The invite and its org, unless it is unknown, expired or used up."""
    row = (
        await session.execute(
            select(Invite, Org)
            .join(Org, Org.id == Invite.org_id)
            .where(Invite.code == code, Invite.expires_at > now, Invite.uses < Invite.max_uses)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def consume_invite_use_txn(session: AsyncSession, code: str, now: datetime) -> bool:
    """Take one use in a single statement, so concurrent accepts never exceed max_uses."""
    result = await session.execute(
        update(Invite)
        .where(Invite.code == code, Invite.uses < Invite.max_uses, Invite.expires_at > now)
        .values(uses=Invite.uses + 1)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def departments_of_org(session: AsyncSession, org_id: str) -> list[Department]:
    return list(
        (
            await session.execute(
                select(Department)
                .where(Department.org_id == org_id)
                .order_by(Department.created_at, Department.id)
            )
        ).scalars()
    )


async def department_in_org(
    session: AsyncSession, org_id: str, department_id: str
) -> Department | None:
    return (
        await session.execute(
            select(Department).where(Department.id == department_id, Department.org_id == org_id)
        )
    ).scalar_one_or_none()


async def add_department_txn(session: AsyncSession, department: Department) -> None:
    session.add(department)
    await session.flush()


async def titles_of_members(
    session: AsyncSession, org_id: str, user_ids: list[str]
) -> dict[str, list[str]]:
    if not user_ids:
        return {}
    rows = await session.execute(
        select(OrgMemberTitle.user_id, OrgMemberTitle.title)
        .where(OrgMemberTitle.org_id == org_id, OrgMemberTitle.user_id.in_(user_ids))
        .order_by(OrgMemberTitle.title)
    )
    found: dict[str, list[str]] = {}
    for user_id, title in rows:
        found.setdefault(user_id, []).append(title)
    return found


async def replace_titles_txn(
    session: AsyncSession, org_id: str, user_id: str, titles: list[str]
) -> None:
    await session.execute(
        delete(OrgMemberTitle).where(
            OrgMemberTitle.org_id == org_id, OrgMemberTitle.user_id == user_id
        )
    )
    session.add_all(OrgMemberTitle(org_id=org_id, user_id=user_id, title=t) for t in titles)
    await session.flush()


async def members_with_title(
    session: AsyncSession, org_id: str, title: str, limit: int
) -> list[str]:
    rows = await session.execute(
        select(OrgMemberTitle.user_id)
        .where(OrgMemberTitle.org_id == org_id, OrgMemberTitle.title == title)
        .order_by(OrgMemberTitle.user_id)
        .limit(limit)
    )
    return [row[0] for row in rows]


async def admins_of_org(session: AsyncSession, org_id: str, limit: int) -> list[str]:
    """Owners and admins, owners first."""
    rows = await session.execute(
        select(OrgMember.user_id)
        .where(OrgMember.org_id == org_id, OrgMember.role.in_(("owner", "admin")))
        .order_by(OrgMember.role.desc(), OrgMember.user_id)
        .limit(limit)
    )
    return [row[0] for row in rows]


async def clear_head_txn(session: AsyncSession, org_id: str, user_id: str) -> list[str]:
    """Take someone off every department they head in the org; the departments' ids."""
    result = await session.execute(
        update(Department)
        .where(Department.org_id == org_id, Department.head_id == user_id)
        .values(head_id=None)
        .returning(Department.id)
        .execution_options(synchronize_session=False)
    )
    return [row[0] for row in result]
