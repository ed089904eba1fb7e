"""Org events: who joined, changed role or department, left; which departments appeared.

The gateway also reads the member events to start or stop sending an org's events to a
person's connections, so ``org.member_removed`` goes to the removed person too.
"""

from __future__ import annotations

from typing import Literal

from knock.core.events import Event
from knock.features.orgs.schemas import DepartmentOut, MemberOut


class OrgMemberJoined(Event):
    """Someone joined the org (also its creator, when the org is created)."""

    type: Literal["org.member_joined"] = "org.member_joined"
    org_id: str
    member: MemberOut


class OrgMemberUpdated(Event):
    """A member's role or department changed."""

    type: Literal["org.member_updated"] = "org.member_updated"
    org_id: str
    member: MemberOut


class OrgMemberRemoved(Event):
    """A member left or was removed; sent to the org and to the removed person."""

    type: Literal["org.member_removed"] = "org.member_removed"
    org_id: str
    user_id: str


class OrgDepartmentCreated(Event):
    type: Literal["org.department_created"] = "org.department_created"
    department: DepartmentOut


class OrgDepartmentUpdated(Event):
    """A department was renamed, moved, or got another head."""

    type: Literal["org.department_updated"] = "org.department_updated"
    department: DepartmentOut
