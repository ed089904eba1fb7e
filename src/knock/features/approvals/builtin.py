"""The templates every team starts with. Admins may edit (a new version) or archive them
like any other; they are created the first time a team's templates are listed."""

from __future__ import annotations

from knock.features.approvals.schemas import (
    ApproverSpec,
    Condition,
    Flow,
    FlowStep,
    FormField,
    TemplateIn,
)

HR_TITLE = "hr"
FINANCE_TITLE = "finance"

LEAVE = TemplateIn(
    name="Leave request",
    icon="leave",
    fields=[
        FormField(
            key="type",
            label="Leave type",
            type="single_select",
            required=True,
            options=["Annual", "Sick", "Personal", "Parental", "Other"],
        ),
        FormField(key="dates", label="From - to", type="date_range", required=True),
        FormField(key="reason", label="Reason", type="long_text", max=1000),
    ],
    flow=Flow(
        steps=[
            FlowStep(name="Department head", approvers=ApproverSpec(kind="dept_head", levels=1)),
            # Longer leave also goes to the next head up.
            FlowStep(
                name="Second-level head",
                approvers=ApproverSpec(kind="dept_head", levels=2),
                condition=Condition(field="working_days", op=">", value=3),
            ),
            FlowStep(name="HR", approvers=ApproverSpec(kind="role", role=HR_TITLE)),
        ]
    ),
)

EXPENSE = TemplateIn(
    name="Expense claim",
    icon="expense",
    fields=[
        FormField(key="items", label="Items", type="line_items", required=True, min=1),
        FormField(key="receipts", label="Receipts", type="attachment"),
        FormField(key="note", label="Note", type="long_text", max=1000),
    ],
    flow=Flow(
        steps=[
            FlowStep(name="Department head", approvers=ApproverSpec(kind="dept_head", levels=1)),
            FlowStep(name="Finance", approvers=ApproverSpec(kind="role", role=FINANCE_TITLE)),
        ]
    ),
)

GENERAL = TemplateIn(
    name="General request",
    icon="general",
    fields=[
        FormField(key="title", label="Title", type="text", required=True, max=100),
        FormField(key="details", label="Details", type="long_text", required=True),
        FormField(key="attachments", label="Attachments", type="attachment"),
    ],
    flow=Flow(
        steps=[FlowStep(name="Department head", approvers=ApproverSpec(kind="dept_head", levels=1))]
    ),
)

BUILTIN_TEMPLATES: dict[str, TemplateIn] = {"leave": LEAVE, "expense": EXPENSE, "general": GENERAL}
