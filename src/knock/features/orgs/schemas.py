"""Orgs' request bodies and answers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from knock.core.schemas import Id, NonBlank, Schema, Timestamp

Role = Literal["owner", "admin", "member"]
InviteRole = Literal["member", "admin"]
Name = Annotated[str, Field(min_length=1, max_length=100), NonBlank]

MIN_INVITE_TTL_S = 60
MAX_INVITE_TTL_S = 30 * 24 * 3600
DEFAULT_INVITE_TTL_S = 7 * 24 * 3600


class OrgIn(Schema):
    name: Name


class OrgOut(BaseModel):
    id: str
    name: str
    created_at: Timestamp
    role: Role


class OrgList(BaseModel):
    items: list[OrgOut]


class MemberOut(BaseModel):
    user_id: str
    display_name: str
    email: str
    role: Role
    department_id: str | None
    joined_at: Timestamp


class OrgMemberPage(BaseModel):
    items: list[MemberOut]
    next_after: str | None = Field(
        description="Pass as `after` for the next page; null on the last page."
    )


class MemberUpdateIn(Schema):
    """Only the fields sent change; `department_id: null` takes the member out of any."""

    role: Role | None = None
    department_id: Id | None = None


class InviteIn(Schema):
    role: InviteRole = "member"
    max_uses: int = Field(50, ge=1, le=1000)
    expires_in_s: int = Field(DEFAULT_INVITE_TTL_S, ge=MIN_INVITE_TTL_S, le=MAX_INVITE_TTL_S)


class InviteOut(BaseModel):
    code: str
    org_id: str
    role: InviteRole
    max_uses: int
    uses: int
    expires_at: Timestamp


class InvitePreview(BaseModel):
    org_id: str
    org_name: str
    role: InviteRole
    expires_at: Timestamp


class InviteAccepted(BaseModel):
    org_id: str
    org: OrgOut
    role: Role


class DepartmentIn(Schema):
    name: Name
    parent_id: Id | None = None


class DepartmentOut(BaseModel):
    id: str
    org_id: str
    name: str
    parent_id: str | None


class DepartmentList(BaseModel):
    items: list[DepartmentOut]
