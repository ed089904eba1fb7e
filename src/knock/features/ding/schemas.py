"""DING request bodies and answers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from knock.core.schemas import Id, Schema, Timestamp

# The schema bounds are hard ceilings; the actions enforce the configured limits
# (KNOCK_DING_MAX_RECIPIENTS, KNOCK_MAX_TEXT_CHARS, KNOCK_DING_MIN_STEP_S).
RECIPIENTS_CEILING = 1000
TEXT_CEILING = 100_000
STEP_MAX_S = 7 * 24 * 3600
DING_PAGE_MAX = 100
DING_PAGE_DEFAULT = 20

ClientDingId = Annotated[str, Field(min_length=1, max_length=64)]
Step = Literal["in_app", "email", "gateway"]
Box = Literal["received", "sent"]


class CreateDingIn(Schema):
    client_ding_id: ClientDingId
    recipient_ids: Annotated[list[Id], Field(min_length=1, max_length=RECIPIENTS_CEILING)]
    # At least one of the two: a new text, or a message (then text is an optional note).
    text: Annotated[str, Field(max_length=TEXT_CEILING)] = ""
    message_id: Id | None = None


class RedingIn(Schema):
    # Default: every recipient who has not confirmed yet.
    recipient_ids: (
        Annotated[list[Id], Field(min_length=1, max_length=RECIPIENTS_CEILING)] | None
    ) = None


class DingRecipientOut(BaseModel):
    user_id: str
    confirmed_at: Timestamp | None
    # When the ladder started for them: the DING, or their last re-DING.
    dinged_at: Timestamp
    # The last step that reached them (a step passed over or failed does not count).
    last_step: Step
    last_step_at: Timestamp
    # The step due next and when; null once confirmed or at the end of the ladder.
    next_step: Step | None
    next_step_at: Timestamp | None


class DingOut(BaseModel):
    id: str
    org_id: str
    sender_id: str
    client_ding_id: str
    text: str
    message_id: str | None
    conversation_id: str | None
    created_at: Timestamp
    recipient_count: int
    # The sender sees every recipient; a recipient sees only their own entry.
    recipients: list[DingRecipientOut]


class DingPage(BaseModel):
    items: list[DingOut]
    # Pass as `before` for the next (older) page; null on the last page.
    next_before: str | None


class DingSettingsIn(Schema):
    email_after_s: Annotated[int, Field(ge=1, le=STEP_MAX_S)]
    gateway_after_s: Annotated[int, Field(ge=1, le=STEP_MAX_S)]
    email_enabled: bool
    gateway_enabled: bool


class DingSettingsOut(BaseModel):
    org_id: str
    # Seconds after the DING (or re-DING) an unconfirmed recipient is emailed.
    email_after_s: int
    # Seconds after the DING (or re-DING) the gateway (SMS/phone) is called.
    gateway_after_s: int
    email_enabled: bool
    gateway_enabled: bool
    # Whether this server has SMTP / a gateway configured at all (else the step is passed
    # over and recorded as not configured).
    email_available: bool
    gateway_available: bool
    # The shortest delay this server allows (KNOCK_DING_MIN_STEP_S).
    min_step_s: int
