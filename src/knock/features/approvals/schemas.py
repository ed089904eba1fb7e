"""Approvals' request bodies and answers: form templates, flows, approvals, inboxes, audit."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from knock.core.schemas import Id, NonBlank, Schema, Timestamp

MAX_FIELDS = 50
MAX_OPTIONS = 100
MAX_STEPS = 10
MAX_APPROVERS_PER_STEP = 100
MAX_CC_ENTRIES = 10
MAX_VALUES_BYTES = 64 * 1024
MAX_ROUNDS = 20
INBOX_PAGE_MAX = 100
AUDIT_PAGE_MAX = 500

FieldKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Label = Annotated[str, Field(min_length=1, max_length=100), NonBlank]
Title = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_\-]*$")
]
Comment = Annotated[str, Field(max_length=2000)]
FieldType = Literal[
    "text",
    "long_text",
    "number",
    "money",
    "date",
    "date_range",
    "single_select",
    "multi_select",
    "employee",
    "attachment",
    "line_items",
]
Status = Literal["pending", "approved", "rejected", "withdrawn"]
StepStatus = Literal["waiting", "pending", "approved", "rejected", "skipped", "cancelled"]
Box = Literal["to_approve", "submitted", "cc"]
ConditionOp = Literal[">", ">=", "<", "<=", "==", "in"]


class FormField(Schema):
    """One field of a form. ``min``/``max`` bound the value of number and money fields, the
    length of text fields and the count of multi_select, employee, attachment and
    line_items answers."""

    key: FieldKey
    label: Label
    type: FieldType
    required: bool = False
    help: Annotated[str, Field(max_length=500)] = ""
    options: Annotated[list[Label], Field(max_length=MAX_OPTIONS)] = Field(default_factory=list)
    min: float | None = Field(None, ge=-1e12, le=1e12)
    max: float | None = Field(None, ge=-1e12, le=1e12)


class ApproverSpec(Schema):
    """Who approves (or is copied): named users, the submitter's department head ``levels``
    up (1 = their own department's head), or everyone with a job title (``role``)."""

    kind: Literal["users", "dept_head", "role"]
    user_ids: Annotated[list[Id], Field(max_length=MAX_APPROVERS_PER_STEP)] = Field(
        default_factory=list
    )
    levels: int = Field(1, ge=1, le=10)
    role: Title | None = None

    @model_validator(mode="after")
    def _complete(self) -> ApproverSpec:
        if self.kind == "users" and not self.user_ids:
            raise ValueError("kind users needs user_ids")
        if self.kind == "role" and self.role is None:
            raise ValueError("kind role needs role")
        return self


class Condition(Schema):
    """The step applies only when ``values[field] op value`` holds; ``field`` may also be a
    computed value: ``working_days`` (leave) or ``total`` (line items)."""

    field: FieldKey
    op: ConditionOp
    value: (
        Annotated[float, Field(ge=-1e12, le=1e12)]
        | Annotated[str, Field(max_length=100)]
        | Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=MAX_OPTIONS)]
    )


class FlowStep(Schema):
    name: Label
    approvers: ApproverSpec
    mode: Literal["all", "any"] = "any"
    condition: Condition | None = None


class Flow(Schema):
    steps: Annotated[list[FlowStep], Field(min_length=1, max_length=MAX_STEPS)]
    cc: Annotated[list[ApproverSpec], Field(max_length=MAX_CC_ENTRIES)] = Field(
        default_factory=list
    )


class TemplateIn(Schema):
    name: Label
    icon: Annotated[str, Field(max_length=32)] | None = None
    fields: Annotated[list[FormField], Field(min_length=1, max_length=MAX_FIELDS)]
    flow: Flow


class TemplateOut(BaseModel):
    id: str
    org_id: str
    name: str
    icon: str | None
    fields: list[FormField]
    flow: Flow
    version: int
    builtin: str | None = Field(description='"leave", "expense", "general" or null')
    archived: bool
    created_at: Timestamp
    updated_at: Timestamp


class TemplateList(BaseModel):
    items: list[TemplateOut]


ClientRequestId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Values = dict[Annotated[str, StringConstraints(max_length=40)], Any]


class SubmitIn(Schema):
    template_id: Id
    client_request_id: ClientRequestId
    values: Annotated[Values, Field(max_length=MAX_FIELDS)]
    conversation_id: Id | None = None
    # The text of the card posted in chat; default: the template's name. Never the values.
    summary: Annotated[str, Field(max_length=200)] | None = None


class DecisionIn(Schema):
    comment: Comment = ""


class RejectIn(Schema):
    comment: Annotated[str, Field(min_length=1, max_length=2000), NonBlank]


class ResubmitIn(Schema):
    values: Annotated[Values, Field(max_length=MAX_FIELDS)] | None = None


class ApproverOut(BaseModel):
    user_id: str
    decision: Literal["approved", "rejected"] | None
    comment: str
    decided_at: Timestamp | None


class StepOut(BaseModel):
    position: int
    name: str
    mode: Literal["all", "any"]
    status: StepStatus
    # True when the org chart had no one for this step and the team's admins stand in.
    fallback: bool
    approvers: list[ApproverOut]


class ApprovalOut(BaseModel):
    id: str
    org_id: str
    template_id: str
    template_version: int
    template_name: str
    fields: list[FormField] = Field(description="The form as it was in template_version.")
    submitter_id: str
    client_request_id: str
    values: dict[str, Any]
    computed: dict[str, Any] = Field(description="working_days (leave), total (line items).")
    status: Status
    round: int
    current_step: int | None
    steps: list[StepOut]
    cc_ids: list[str]
    conversation_id: str | None
    summary: str
    created_at: Timestamp
    updated_at: Timestamp
    decided_at: Timestamp | None


class ApprovalPage(BaseModel):
    items: list[ApprovalOut]
    next_before: str | None = Field(description="Pass as `before` for the next page.")


AuditAction = Literal["submitted", "approved", "rejected", "withdrawn", "resubmitted", "completed"]


class AuditEntryOut(BaseModel):
    seq: int
    at: Timestamp
    actor_id: str | None
    action: AuditAction
    round: int
    step: int | None
    comment: str
    detail: dict[str, Any]
    # SHA-256 over the previous entry's hash and this entry: any edit breaks the chain.
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_after: int | None
