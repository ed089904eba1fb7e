"""Album inputs and the album and album item objects."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from knock.core.schemas import Id, NonBlank, Schema, Timestamp

AlbumTitle = Annotated[str, Field(min_length=1, max_length=100), NonBlank]
CAPTION_MAX = 500
Caption = Annotated[str, Field(max_length=CAPTION_MAX)]
ClientItemId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ALBUM_PAGE_MAX = 100
ALBUM_PAGE_DEFAULT = 50
ITEM_PAGE_MAX = 100
ITEM_PAGE_DEFAULT = 50


class CreateAlbumIn(Schema):
    title: AlbumTitle
    # Absent: a team album (every member of the team sees it); else that conversation's.
    conversation_id: Id | None = None


class UpdateAlbumIn(Schema):
    title: AlbumTitle


class AddItemIn(Schema):
    """From an upload (``media_id``: an image of yours, ``voice_media_id``: a recording of
    yours for a voice photo) or from a chat message (``message_id``), not both."""

    client_item_id: ClientItemId
    caption: Caption = ""
    media_id: Id | None = None
    voice_media_id: Id | None = None
    message_id: Id | None = None


class UpdateItemIn(Schema):
    caption: Caption


class AlbumOut(BaseModel):
    id: str
    org_id: str
    conversation_id: str | None
    title: str
    owner_id: str
    item_count: int
    # The image of the newest item; null while the album is empty.
    cover_media_id: str | None
    created_at: Timestamp
    updated_at: Timestamp


class AlbumPage(BaseModel):
    items: list[AlbumOut]
    # Pass as ``before`` for the next (older) page; null on the last page.
    next_before: str | None


class AlbumItemOut(BaseModel):
    id: str
    album_id: str
    added_by: str
    kind: Literal["image", "voice_photo"]
    media_id: str
    voice_media_id: str | None
    caption: str
    width: int | None
    height: int | None
    # The recording of a voice photo: its length and 64 peaks (0-255) to draw it.
    duration_ms: int | None
    waveform: list[int] | None
    source_message_id: str | None
    created_at: Timestamp


class AlbumItemPage(BaseModel):
    items: list[AlbumItemOut]
    next_before: str | None
