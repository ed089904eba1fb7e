"""The schema the migrations build is the models' schema, and every event type is catalogued.

A model changed without a migration (or a migration that drifts from the models) shows up
here as a difference on SQLite or PostgreSQL; an event class a feature forgot to add to
``knock.realtime.catalog.EVENT_TYPES`` would never reach the web client's generated types.
"""

from __future__ import annotations

import importlib
import pkgutil
import typing
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import knock
from knock.core.events import Event
from knock.realtime.catalog import EVENT_TYPES
from knock.tables import metadata


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "compare_server_default": True},
    )
    return list(compare_metadata(context, metadata))


async def test_migrations_build_exactly_the_models_schema(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == [], "the migrations and the models differ:\n" + "\n".join(
        map(repr, differences)
    )


def _knock_event_modules() -> list[str]:
    """Every ``events`` module of Knock (features and core), test code left out."""
    names = []
    for info in pkgutil.walk_packages(knock.__path__, prefix="knock."):
        parts = info.name.split(".")
        if "tests" in parts or parts[-1] == "conftest":
            continue
        if parts[-1] == "events":
            names.append(info.name)
    return names


def _subclasses(cls: type[Event]) -> set[type[Event]]:
    found: set[type[Event]] = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _subclasses(sub)
    return found


def _type_literal(cls: type[Event]) -> str:
    annotation = cls.model_fields["type"].annotation
    assert typing.get_origin(annotation) is typing.Literal, f"{cls.__name__}.type is no Literal"
    (value,) = typing.get_args(annotation)
    assert cls.model_fields["type"].default == value, f"{cls.__name__}.type default differs"
    return str(value)


def test_every_event_class_is_in_the_catalog_with_a_unique_type() -> None:
    modules = _knock_event_modules()
    assert "knock.features.messages.events" in modules  # the walk does find the features
    for name in modules:
        importlib.import_module(name)
    declared = {
        cls
        for cls in _subclasses(Event)
        if cls.__module__ in modules or cls.__module__.startswith("knock.features.")
    }
    declared = {cls for cls in declared if ".tests." not in cls.__module__}
    missing = sorted(cls.__qualname__ for cls in declared - set(EVENT_TYPES))
    assert missing == [], f"events missing from knock.realtime.catalog.EVENT_TYPES: {missing}"

    types = [_type_literal(cls) for cls in EVENT_TYPES]
    duplicates = sorted({t for t in types if types.count(t) > 1})
    assert duplicates == [], f"event types used by more than one class: {duplicates}"
    assert len(set(EVENT_TYPES)) == len(EVENT_TYPES)
