"""CSV export of a team's approvals for its owners and admins.

Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return) as a
formula, so such cells get a leading apostrophe: the file shows the text as typed and
nothing runs.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from knock.core.clock import isoformat
from knock.core.db import Database
from knock.core.errors import InvalidInput
from knock.features.accounts.actions import Viewer, users_brief
from knock.features.approvals import repository as repo
from knock.features.approvals.rounds import approval_outs
from knock.features.approvals.schemas import ApprovalOut
from knock.features.orgs.actions import access_org, check_admin

MAX_EXPORT_ROWS = 10_000
MAX_EXPORT_DAYS = 366
EARLIEST, LATEST = date(1970, 1, 1), date(9999, 1, 1)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = [
    "id",
    "template",
    "template_version",
    "submitter_id",
    "submitter",
    "status",
    "round",
    "created_at",
    "decided_at",
    "working_days",
    "total",
    "values",
    "decisions",
]


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _answer(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(
            f"{v['description']} {v['amount']}" if isinstance(v, dict) else str(v) for v in value
        )
    if isinstance(value, dict):
        return f"{value.get('from')} to {value.get('to')}"
    return str(value)


def csv_row(approval: ApprovalOut, names: dict[str, tuple[str, str]]) -> list[str]:
    labels = {f.key: f.label for f in approval.fields}
    values = "; ".join(f"{labels.get(k, k)}: {_answer(v)}" for k, v in approval.values.items())
    decisions = "; ".join(
        f"{names.get(a.user_id, (a.user_id, ''))[0]}: {a.decision}"
        + (f" ({a.comment})" if a.comment else "")
        for step in approval.steps
        for a in step.approvers
        if a.decision is not None
    )
    cells = [
        approval.id,
        approval.template_name,
        approval.template_version,
        approval.submitter_id,
        names.get(approval.submitter_id, ("", ""))[0],
        approval.status,
        approval.round,
        isoformat(approval.created_at),
        isoformat(approval.decided_at) if approval.decided_at else "",
        approval.computed.get("working_days", ""),
        approval.computed.get("total", ""),
        values,
        decisions,
    ]
    return [safe_cell(c) for c in cells]


class ApprovalExport:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def export_csv(
        self, viewer: Viewer, org_id: str, start: date | None, end: date | None
    ) -> str:
        """Approvals created from ``start`` to ``end`` (UTC dates, both included; default
        the last 30 days), oldest first, at most a year and MAX_EXPORT_ROWS rows."""
        for given in (start, end):
            if given is not None and not EARLIEST <= given <= LATEST:
                raise InvalidInput(f"from, to: between {EARLIEST} and {LATEST}.")
        end = end or datetime.now(UTC).date()
        start = start or end - timedelta(days=30)
        if end < start:
            raise InvalidInput("to: before from.")
        if (end - start).days >= MAX_EXPORT_DAYS:
            raise InvalidInput(f"from, to: at most {MAX_EXPORT_DAYS} days at a time.")
        low = datetime.combine(start, time.min, UTC)
        high = datetime.combine(end + timedelta(days=1), time.min, UTC)
        async with self._db.read() as session:
            check_admin(await access_org(session, viewer.user_id, org_id))
            rows = await repo.approvals_between(session, org_id, low, high, MAX_EXPORT_ROWS + 1)
            if len(rows) > MAX_EXPORT_ROWS:
                raise InvalidInput(
                    f"More than {MAX_EXPORT_ROWS} approvals in this range; export a shorter one."
                )
            approvals = await approval_outs(session, rows)
            people = {a.submitter_id for a in approvals} | {
                p.user_id for a in approvals for s in a.steps for p in s.approvers
            }
            ordered = sorted(people)
            names: dict[str, tuple[str, str]] = {}
            for at in range(0, len(ordered), 1000):  # bounded IN lists on both engines
                names.update(await users_brief(session, ordered[at : at + 1000]))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for approval in approvals:
            writer.writerow(csv_row(approval, names))
        return out.getvalue()
