from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from knock.core.schemas import NonBlank, OutSchema, Schema, Timestamp

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$"
    ),
]
Password = Annotated[str, Field(min_length=8, max_length=256)]
DisplayName = Annotated[str, Field(min_length=1, max_length=64), NonBlank]


class RegisterIn(Schema):
    email: Email
    password: Password
    display_name: DisplayName


class LoginIn(Schema):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=256)]


class UserOut(OutSchema):
    id: str
    email: str
    display_name: str
    created_at: Timestamp


class AuthOut(BaseModel):
    user: UserOut
    token: str
