"""Composition root: builds settings, database, broker and services, and wires the routes.

Nothing else in Knock constructs a service or reaches for a global: every part gets what it
needs through its constructor, here.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp

from knock.config import Settings, load_settings
from knock.core.admission import Admission, AdmissionControl
from knock.core.db import Database
from knock.core.errors import install_error_handlers
from knock.core.http import BodyLimit, LeanRoute, RefuseNul, SecurityHeaders, WebClient
from knock.features.accounts import routes as accounts_routes
from knock.features.accounts.actions import Accounts
from knock.features.albums import actions as albums_actions
from knock.features.albums import routes as albums_routes
from knock.features.albums.actions import Albums
from knock.features.approvals import actions as approvals_actions
from knock.features.approvals import routes as approvals_routes
from knock.features.approvals.actions import Approvals
from knock.features.approvals.cards import ApprovalCards
from knock.features.approvals.export import ApprovalExport
from knock.features.approvals.templates import Templates
from knock.features.calls import routes as calls_routes
from knock.features.calls.actions import (
    CallMedia,
    Calls,
    NodeIdentity,
    OnGone,
    OnSpeaking,
    call_upkeep,
)
from knock.features.conversations import routes as conversations_routes
from knock.features.conversations.actions import Conversations
from knock.features.ding import routes as ding_routes
from knock.features.ding.actions import Dings
from knock.features.ding.delivery import DingDelivery
from knock.features.ding.escalation import DingEscalation
from knock.features.media import routes as media_routes
from knock.features.media.actions import MediaLibrary
from knock.features.media.store import open_media_store
from knock.features.messages import actions as messages_actions
from knock.features.messages import routes as messages_routes
from knock.features.messages.actions import Messages
from knock.features.orgs import routes as orgs_routes
from knock.features.orgs.actions import Orgs
from knock.features.receipts import routes as receipts_routes
from knock.features.receipts.actions import ReceiptCoalescer, Receipts
from knock.realtime.broker import Broker, create_broker
from knock.realtime.eventlog import EventLog
from knock.realtime.gateway import Gateway
from knock.realtime.pump import EventPump
from knock.realtime.registry import Registry
from knock.workers.burn_purger import burn_purger
from knock.workers.ding_escalator import ding_escalator
from knock.workers.event_pruner import event_pruner
from knock.workers.media_sweeper import unsent_media_sweeper
from knock.workers.periodic import PeriodicJob

STATIC_DIR = Path(__file__).parent / "static"


@dataclass
class Node:
    """Everything one running server process is made of."""

    settings: Settings
    db: Database
    broker: Broker
    registry: Registry
    pump: EventPump
    gateway: Gateway
    admission: Admission
    accounts: Accounts
    orgs: Orgs
    conversations: Conversations
    messages: Messages
    receipt_coalescer: ReceiptCoalescer
    receipts: Receipts
    media: MediaLibrary
    approval_templates: Templates
    approvals: Approvals
    approval_export: ApprovalExport
    dings: Dings
    albums: Albums
    calls: Calls
    ding_escalation: DingEscalation
    jobs: list[PeriodicJob]


def build_node(settings: Settings) -> Node:
    db = Database(settings.effective_database_url)
    broker = create_broker(settings.broker_url, settings.broker_prefix)
    db.set_event_sink(EventLog(broker))
    registry = Registry()
    accounts = Accounts(db, settings)
    pump = EventPump(db, broker, registry, on_session_revoked=accounts.forget_session)
    conversations = Conversations(db, settings, last_messages=messages_actions.last_messages)
    orgs = Orgs(
        db,
        settings,
        remove_from_org_conversations=conversations.do_remove_from_org_conversations_txn,
    )
    media_store, media_scratch = open_media_store(settings.media_url, settings.data_dir)
    media = MediaLibrary(
        db,
        settings,
        media_store,
        media_scratch,
        album_access=albums_actions.may_see_album_media,
        approval_access=approvals_actions.may_see_approval_media,
    )
    messages = Messages(
        db, settings, media, remove_from_albums=albums_actions.remove_message_items_txn
    )
    receipt_coalescer = ReceiptCoalescer(db, settings.receipt_coalesce_ms)
    receipts = Receipts(db, settings, receipt_coalescer)
    admission = Admission(settings, database_is_sqlite=db.is_sqlite)
    gateway = Gateway(db, accounts, pump, registry, settings, admission)

    def conference_media(on_speaking: OnSpeaking, on_gone: OnGone) -> CallMedia:
        # Imported here, when the node first needs a mixer: aiortc, PyAV and numpy cost more
        # than a second of every start (the test suite starts ~80 servers).
        from knock.features.calls.media import ConferenceMedia

        return ConferenceMedia(settings, on_speaking, on_gone)

    calls = Calls(db, settings, NodeIdentity.of(settings), conference_media)
    dings = Dings(db, settings)
    ding_escalation = DingEscalation(db, settings, DingDelivery(settings))
    return Node(
        settings=settings,
        db=db,
        broker=broker,
        registry=registry,
        pump=pump,
        gateway=gateway,
        admission=admission,
        accounts=accounts,
        orgs=orgs,
        conversations=conversations,
        messages=messages,
        receipt_coalescer=receipt_coalescer,
        receipts=receipts,
        media=media,
        approval_templates=Templates(db),
        approvals=Approvals(db, ApprovalCards(conversations)),
        approval_export=ApprovalExport(db),
        dings=dings,
        ding_escalation=ding_escalation,
        albums=Albums(db, settings),
        calls=calls,
        jobs=[
            event_pruner(db, settings.event_retention_s),
            burn_purger(db, media, settings.burn_purge_interval_s),
            unsent_media_sweeper(media),
            ding_escalator(ding_escalation, settings.ding_poll_s),
            call_upkeep(calls, settings.call_lease_s),
        ],
    )


class KnockApp(FastAPI):
    """FastAPI with admission control outside its whole middleware stack: a refused request
    must cost next to nothing, so it never reaches the framework's error, telemetry and
    body-limit layers or our own."""

    admission: Admission

    def build_middleware_stack(self) -> ASGIApp:
        return AdmissionControl(super().build_middleware_stack(), self.admission)


def create_app(settings: Settings | None = None, static_dir: Path = STATIC_DIR) -> KnockApp:
    settings = settings or load_settings()
    node = build_node(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await node.broker.start()
        await node.pump.start()
        await node.receipt_coalescer.start()
        for job in node.jobs:
            await job.start()
        await node.calls.start()
        try:
            yield
        finally:
            await node.calls.close()
            for job in reversed(node.jobs):
                await job.stop()
            await node.receipt_coalescer.stop()
            await node.pump.stop()
            await node.broker.close()
            await node.db.dispose()

    app = KnockApp(
        title="Knock API",
        version="1",
        description="Team messenger and office platform. Errors: "
        '`{"error": {"code": "...", "message": "..."}}`. Realtime: WS /api/v1/ws (docs/API.md).',
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
        # Knock exports no OpenTelemetry; left on, FastAPI looks up providers per request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.node = node
    app.admission = app.state.admission = node.admission
    install_error_handlers(app)

    @app.get("/api/v1/health", tags=["ops"])
    async def health() -> dict[str, str]:
        """Liveness for load balancers and scripts: answers while the process serves."""
        return {"status": "ok"}

    app.add_api_websocket_route("/api/v1/ws", node.gateway.endpoint)
    current_viewer = accounts_routes.viewer_dependency(node.accounts)
    api = APIRouter(prefix="/api/v1")
    # FastAPI tries routes in order, each at a cost (a few µs here): the hottest come first.
    # No two API routes match the same method and path, so the order changes nothing else.
    api.include_router(messages_routes.build_router(node.messages, current_viewer))
    api.include_router(receipts_routes.build_router(node.receipts, current_viewer))
    api.include_router(accounts_routes.build_router(node.accounts, current_viewer))
    api.include_router(conversations_routes.build_router(node.conversations, current_viewer))
    api.include_router(orgs_routes.build_router(node.orgs, current_viewer))
    api.include_router(media_routes.build_router(node.media, current_viewer))
    api.include_router(albums_routes.build_router(node.albums, current_viewer))
    api.include_router(
        approvals_routes.build_router(
            node.approval_templates, node.approvals, node.approval_export, current_viewer
        )
    )
    api.include_router(ding_routes.build_router(node.dings, current_viewer))
    api.include_router(calls_routes.build_router(node.calls, current_viewer))
    app.include_router(api)

    web = WebClient(static_dir)
    app.add_api_route("/{path:path}", web.serve, methods=["GET", "HEAD"], include_in_schema=False)
    # Innermost first: the lean send runs after the body limit, the NUL refusal and with
    # the security headers and the 500 handler around it, as the framework's routes do.
    app.add_middleware(
        LeanRoute,
        method="POST",
        path=messages_routes.SEND_PATH,
        handler=messages_routes.lean_send(node.messages, node.accounts),
    )
    app.add_middleware(BodyLimit)
    app.add_middleware(RefuseNul)
    app.add_middleware(SecurityHeaders)
    return app


def create_served_app() -> FastAPI:
    """The app as ``knock serve`` runs it. What exists once it is built (modules, the app,
    the node) lives as long as the process: frozen out of the cyclic collector's sight, a
    full collection under load walks only what requests and sockets made, so its pauses
    (which every delivery waiting behind it feels) stay short."""
    app = create_app()
    gc.collect()
    gc.freeze()
    return app
