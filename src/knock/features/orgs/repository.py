"""SQL for orgs: orgs, memberships, invites, departments."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from knock.features.orgs.models import OrgMember


async def membership(session: AsyncSession, org_id: str, user_id: str) -> OrgMember | None:
    return await session.get(OrgMember, (org_id, user_id))


async def members_among(session: AsyncSession, org_id: str, user_ids: list[str]) -> set[str]:
    if not user_ids:
        return set()
    rows = await session.execute(
        select(OrgMember.user_id).where(OrgMember.org_id == org_id, OrgMember.user_id.in_(user_ids))
    )
    return {row[0] for row in rows}
