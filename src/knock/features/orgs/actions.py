"""Orgs (teams): who belongs, with which role. Other features ask here who may see what."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from knock.core.errors import InvalidInput, NotFound
from knock.features.orgs import repository as repo
from knock.features.orgs.models import OrgMember

ADMIN_ROLES = frozenset({"owner", "admin"})


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
