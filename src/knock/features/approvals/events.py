"""Approval events, sent to the approval's participants only: the submitter, every approver
of every round, and the people copied. Each carries the whole approval as it now is."""

from __future__ import annotations

from typing import Literal

from knock.core.events import Event
from knock.features.approvals.schemas import ApprovalOut


class ApprovalCreated(Event):
    type: Literal["approval.created"] = "approval.created"
    approval: ApprovalOut


class ApprovalUpdated(Event):
    """A decision, a withdrawal or a resubmission; also when a new step's approvers are
    added (they receive it as their first frame about this approval)."""

    type: Literal["approval.updated"] = "approval.updated"
    approval: ApprovalOut
