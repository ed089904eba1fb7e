"""The media object (also embedded in messages). Imports only core."""

from __future__ import annotations

from pydantic import BaseModel


class MediaOut(BaseModel):
    id: str
    kind: str  # "image" | "audio"
    mime: str
    size: int
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    # Audio: 64 peaks, 0-255, of equal duration each (for drawing the voice bubble).
    waveform: list[int] | None = None
