"""Form templates: every team's built-in ones, and admins' own. Saving a template again
adds a version; approvals keep the version they were submitted on."""

from __future__ import annotations

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from knock.core.clock import utcnow
from knock.core.db import Database, Transaction
from knock.core.errors import Conflict, NotFound
from knock.core.ids import ID_LENGTH, new_id
from knock.features.accounts.actions import Viewer
from knock.features.approvals import repository as repo
from knock.features.approvals.builtin import BUILTIN_TEMPLATES
from knock.features.approvals.forms import check_template
from knock.features.approvals.models import ApprovalTemplate, ApprovalTemplateVersion
from knock.features.approvals.schemas import (
    Flow,
    FormField,
    TemplateIn,
    TemplateList,
    TemplateOut,
)
from knock.features.orgs.actions import access_org, access_org_for_change_txn, check_admin

MAX_TEMPLATES_PER_ORG = 200


def fields_of(version: ApprovalTemplateVersion) -> list[FormField]:
    return [FormField.model_validate(f) for f in orjson.loads(version.fields)]


def flow_of(version: ApprovalTemplateVersion) -> Flow:
    return Flow.model_validate(orjson.loads(version.flow))


def template_out(template: ApprovalTemplate, version: ApprovalTemplateVersion) -> TemplateOut:
    return TemplateOut(
        id=template.id,
        org_id=template.org_id,
        name=version.name,
        icon=version.icon,
        fields=fields_of(version),
        flow=flow_of(version),
        version=version.version,
        builtin=template.builtin,
        archived=template.archived,
        created_at=template.created_at,
        updated_at=template.updated_at,
    )


def new_version(
    template_id: str, number: int, body: TemplateIn, user_id: str | None
) -> ApprovalTemplateVersion:
    return ApprovalTemplateVersion(
        template_id=template_id,
        version=number,
        name=body.name,
        icon=body.icon,
        fields=orjson.dumps([f.model_dump(mode="json") for f in body.fields]).decode(),
        flow=orjson.dumps(body.flow.model_dump(mode="json")).decode(),
        created_by=user_id,
        created_at=utcnow(),
    )


async def access_template(
    session: AsyncSession, user_id: str, template_id: str, *, lock: bool = False
) -> ApprovalTemplate:
    """The template if the caller is in its team, else NotFound."""
    if len(template_id) > ID_LENGTH:
        raise NotFound()
    template = await repo.template_by_id(session, template_id, lock=lock)
    if template is None:
        raise NotFound()
    await access_org(session, user_id, template.org_id)
    return template


class Templates:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def list_templates(
        self, viewer: Viewer, org_id: str, include_archived: bool
    ) -> TemplateList:
        """The team's templates (the built-in ones are created on the first call)."""
        async with self._db.read() as session:
            await access_org(session, viewer.user_id, org_id)
            missing = set(BUILTIN_TEMPLATES) - await repo.builtin_kinds(session, org_id)
        if missing:
            await self._create_builtins(org_id)
        async with self._db.read() as session:
            rows = await repo.templates_of_org(session, org_id, include_archived)
        return TemplateList(items=[template_out(t, v) for t, v in rows])

    async def _create_builtins(self, org_id: str) -> None:
        try:
            async with self._db.transaction() as txn:
                present = await repo.builtin_kinds(txn.session, org_id)
                for kind, body in BUILTIN_TEMPLATES.items():
                    if kind not in present:
                        await self._add_txn(txn, org_id, body, None, builtin=kind)
        except IntegrityError:
            pass  # another request created them at the same moment

    async def do_create_template(
        self, viewer: Viewer, org_id: str, body: TemplateIn
    ) -> TemplateOut:
        check_template(body)
        async with self._db.transaction() as txn:
            caller = await access_org_for_change_txn(txn, viewer.user_id, org_id)
            check_admin(caller)
            if await repo.count_templates(txn.session, org_id) >= MAX_TEMPLATES_PER_ORG:
                raise Conflict(
                    f"A team has at most {MAX_TEMPLATES_PER_ORG} templates; archive is not "
                    "enough, they still count.",
                    code="template_limit_reached",
                )
            return await self._add_txn(txn, org_id, body, viewer.user_id, builtin=None)

    async def _add_txn(
        self,
        txn: Transaction,
        org_id: str,
        body: TemplateIn,
        user_id: str | None,
        *,
        builtin: str | None,
    ) -> TemplateOut:
        now = utcnow()
        template = ApprovalTemplate(
            id=new_id(),
            org_id=org_id,
            builtin=builtin,
            version=1,
            archived=False,
            created_at=now,
            updated_at=now,
        )
        version = new_version(template.id, 1, body, user_id)
        await repo.add_template_txn(txn.session, template, version)
        return template_out(template, version)

    async def template(self, viewer: Viewer, template_id: str, version: int | None) -> TemplateOut:
        """The template as it is now, or one of its earlier versions. Members of its team."""
        async with self._db.read() as session:
            template = await access_template(session, viewer.user_id, template_id)
            found = await repo.template_version(
                session, template.id, version if version is not None else template.version
            )
        if found is None:
            raise NotFound()
        return template_out(template, found)

    async def do_update_template(
        self, viewer: Viewer, template_id: str, body: TemplateIn
    ) -> TemplateOut:
        """A new version; approvals already submitted keep theirs. Admins; archived → 409."""
        check_template(body)
        async with self._db.transaction() as txn:
            template = await access_template(txn.session, viewer.user_id, template_id, lock=True)
            caller = await access_org_for_change_txn(txn, viewer.user_id, template.org_id)
            check_admin(caller)
            if template.archived:
                raise Conflict("This template is archived.", code="template_archived")
            template.version += 1
            template.updated_at = utcnow()
            version = new_version(template.id, template.version, body, viewer.user_id)
            await repo.add_version_txn(txn.session, version)
            return template_out(template, version)

    async def do_archive_template(self, viewer: Viewer, template_id: str) -> None:
        """No new approvals on it; those submitted go on. Admins; again → no change."""
        async with self._db.transaction() as txn:
            template = await access_template(txn.session, viewer.user_id, template_id, lock=True)
            caller = await access_org_for_change_txn(txn, viewer.user_id, template.org_id)
            check_admin(caller)
            if not template.archived:
                template.archived = True
                template.updated_at = utcnow()
                await txn.session.flush()
