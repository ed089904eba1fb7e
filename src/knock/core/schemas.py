"""Pydantic building blocks shared by every feature's schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
    field_validator,
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


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(_contains_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    return False


class Schema(BaseModel):
    """Inputs refuse unknown fields so a typo is an error, not a silent default, and NUL
    characters anywhere (no database column can hold them)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        if _contains_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


class OutSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)
