"""The ``knock`` command: serve, migrate, and export the contracts the web client builds on."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from knock.config import Settings, SettingsError, load_settings

app = typer.Typer(help="Knock: a self-hostable team messenger.", no_args_is_help=True)


def _settings(**overrides: Any) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        typer.echo(f"knock: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    from knock.core.migrate import migrate as run_migrations

    settings = _settings()
    run_migrations(settings.effective_database_url)
    typer.echo("database is up to date")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address (default KNOCK_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default KNOCK_PORT)")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Processes (PostgreSQL + Redis only)")] = 1,
) -> None:
    """Serve Knock (migrating a SQLite database first)."""
    import uvicorn

    from knock.core.logs import configure_logging
    from knock.core.migrate import migrate as run_migrations
    from knock.core.server import serve as run_server

    settings = _settings(host=host, port=port)
    if settings.effective_database_url.startswith("sqlite"):
        if workers != 1:
            typer.echo("knock: several workers need PostgreSQL and Redis", err=True)
            raise typer.Exit(2)
        run_migrations(settings.effective_database_url)
    config = uvicorn.Config(
        "knock.main:create_served_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        # uvicorn's websockets-sansio protocol, letting the gateway write pre-framed frames.
        ws="knock.realtime.wire:KnockWebSocketProtocol",
        # Compression would cost a deflate per recipient and defeat serialize-once fan-out.
        ws_per_message_deflate=False,
        ws_max_size=64 * 1024,
        log_level=settings.log_level,
        log_config=configure_logging(settings.log_level, settings.log_json),
        access_log=False,
        proxy_headers=False,
    )
    run_server(config, workers)


@app.command("export-openapi")
def export_openapi(path: Path) -> None:
    """Write the OpenAPI document (the web client's API types are generated from it)."""
    from knock.main import create_app

    document = create_app(load_settings(environ={})).openapi()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


@app.command("export-events")
def export_events(path: Path) -> None:
    """Write a JSON Schema of every realtime event type (for the web client's types)."""
    from knock.realtime.catalog import events_json_schema

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(events_json_schema(), indent=2, sort_keys=True) + "\n")


def main() -> None:  # pragma: no cover - console entry
    sys.exit(app())
