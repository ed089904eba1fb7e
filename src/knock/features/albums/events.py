from __future__ import annotations

from typing import Literal

from knock.core.events import Event
from knock.features.albums.schemas import AlbumOut

AlbumChange = Literal[
    "created", "renamed", "item_added", "item_removed", "caption_edited", "deleted"
]


class AlbumUpdated(Event):
    """An album changed: to the team's members (a team album) or the conversation's (a
    conversation album). ``album`` is the album as it now is (as it was, for "deleted");
    ``item_id`` names the item for the item changes."""

    type: Literal["album.updated"] = "album.updated"
    album: AlbumOut
    change: AlbumChange
    item_id: str | None = None
