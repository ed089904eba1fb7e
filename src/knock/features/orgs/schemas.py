"""Orgs' request bodies and answers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from knock.core.schemas import Id, NonBlank, Schema, Timestamp

Role = Literal["owner", "admin", "member"]
InviteRole = Literal["member", "admin"]
Name = Annotated[str, Field(min_length=1, max_length=100), NonBlank]
# A job title used to route approvals ("hr", "finance"): lower case, digits, - and _.
JobTitle = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_\-]*$")
]
MAX_TITLES_PER_MEMBER = 20

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
    titles: list[str] = Field(default_factory=list)


class OrgMemberPage(BaseModel):
    items: list[MemberOut]
    next_after: str | None = Field(
        description="Pass as `after` for the next page; null on the last page."
    )


class MemberUpdateIn(Schema):
    """Only the fields sent change; `department_id: null` takes the member out of any."""

    role: Role | None = None
    department_id: Id | None = None
    # Replaces the member's job titles (approval flows route steps to a title).
    titles: Annotated[list[JobTitle], Field(max_length=MAX_TITLES_PER_MEMBER)] | None = None


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
    head_id: Id | None = None


class DepartmentUpdateIn(Schema):
    """Only the fields sent change; `parent_id: null` makes it top level, `head_id: null`
    leaves it without a head."""

    name: Name | None = None
    parent_id: Id | None = None
    head_id: Id | None = None


class DepartmentOut(BaseModel):
    id: str
    org_id: str
    name: str
    parent_id: str | None
    head_id: str | None = None


class DepartmentList(BaseModel):
    items: list[DepartmentOut]
