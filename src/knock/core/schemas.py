"""Pydantic building blocks shared by every feature's schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
)

from knock.core.clock import isoformat
from knock.core.ids import ID_LENGTH

Timestamp = Annotated[datetime, PlainSerializer(isoformat, return_type=str)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=ID_LENGTH, pattern=r"^[0-9a-z]+$")]


def _strip_nonblank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


NonBlank = AfterValidator(_strip_nonblank)


class Schema(BaseModel):
    """Inputs refuse unknown fields so a typo is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid")


class OutSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)
