"""Turning a template's flow into people, from the org chart as it is at submission.

Department head N levels up: the heads from the submitter's department upward, without the
submitter themself (a head asking for leave goes to the head above); level 1 is the first of
them. When a step finds no one (no department, no head at that level, nobody with the job
title, named people who left the team) the team's owners and admins stand in and the step
says ``fallback: true`` — a step is never silently skipped. A step's condition is evaluated
on the values (and computed values) at submission; a step whose condition does not hold is
kept as ``skipped``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from knock.core.errors import Conflict
from knock.features.approvals.forms import condition_holds
from knock.features.approvals.schemas import MAX_APPROVERS_PER_STEP, ApproverSpec, Flow
from knock.features.orgs.actions import (
    access_org,
    admins_of_org,
    departments_of_org,
    members_among,
    members_with_title,
)


@dataclass(frozen=True)
class ResolvedStep:
    position: int
    name: str
    mode: str
    applies: bool
    fallback: bool
    approver_ids: list[str]


@dataclass(frozen=True)
class ResolvedFlow:
    steps: list[ResolvedStep]
    cc_ids: list[str]


class OrgChart:
    """What resolution needs of one org, loaded once per submission."""

    def __init__(self, session: AsyncSession, org_id: str, submitter_id: str) -> None:
        self._session = session
        self._org_id = org_id
        self._submitter_id = submitter_id
        self._heads: list[str | None] | None = None

    async def heads_upward(self) -> list[str | None]:
        """The heads of the submitter's department and its ancestors, nearest first, the
        submitter left out; None where a department has no head (or one who left)."""
        if self._heads is None:
            member = await access_org(self._session, self._submitter_id, self._org_id)
            departments = {d.id: d for d in await departments_of_org(self._session, self._org_id)}
            chain: list[str | None] = []
            current = departments.get(member.department_id or "")
            while current is not None and len(chain) <= len(departments):
                chain.append(current.head_id)
                current = departments.get(current.parent_id or "")
            present = await members_among(
                self._session, self._org_id, [h for h in chain if h is not None]
            )
            self._heads = [h if h in present else None for h in chain if h != self._submitter_id]
        return self._heads

    async def resolve(self, spec: ApproverSpec) -> list[str]:
        """The people a spec names who are in the team now (maybe none)."""
        if spec.kind == "users":
            present = await members_among(self._session, self._org_id, spec.user_ids)
            return [u for u in dict.fromkeys(spec.user_ids) if u in present]
        if spec.kind == "dept_head":
            heads = await self.heads_upward()
            head = heads[spec.levels - 1] if spec.levels <= len(heads) else None
            return [head] if head is not None else []
        assert spec.role is not None
        found = await members_with_title(
            self._session, self._org_id, spec.role, MAX_APPROVERS_PER_STEP + 1
        )
        if len(found) > MAX_APPROVERS_PER_STEP:
            raise Conflict(
                f"More than {MAX_APPROVERS_PER_STEP} people hold the title {spec.role!r}; "
                "a step has at most that many approvers.",
                code="too_many_approvers",
            )
        return found

    async def stand_ins(self) -> list[str]:
        """The owners and admins, the submitter left out unless they are the only one."""
        admins = await admins_of_org(self._session, self._org_id, MAX_APPROVERS_PER_STEP + 1)
        others = [a for a in admins if a != self._submitter_id]
        return (others or admins)[:MAX_APPROVERS_PER_STEP]


async def resolve_flow(chart: OrgChart, flow: Flow, facts: dict[str, Any]) -> ResolvedFlow:
    """Every step with its approvers (and whether it applies), and the people copied."""
    steps: list[ResolvedStep] = []
    for position, step in enumerate(flow.steps):
        condition = step.condition
        applies = condition is None or condition_holds(
            condition.op, facts.get(condition.field), condition.value
        )
        approvers: list[str] = []
        fallback = False
        if applies:
            approvers = await chart.resolve(step.approvers)
            if not approvers:
                approvers, fallback = await chart.stand_ins(), True
        steps.append(ResolvedStep(position, step.name, step.mode, applies, fallback, approvers))
    cc: list[str] = []
    for spec in flow.cc:
        cc.extend(await chart.resolve(spec))
    return ResolvedFlow(steps=steps, cc_ids=list(dict.fromkeys(cc)))
