"""Work that a cancel must not cut in half."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TypeVar

T = TypeVar("T")


async def to_the_end(future: asyncio.Future[T]) -> T:
    """Await ``future``. Cancelled meanwhile, let it end first (its outcome is dropped),
    then let the cancel go on: what it was doing is never left half done."""
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await future
        raise
