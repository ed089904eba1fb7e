# No `from __future__ import annotations` here: FastAPI must see the route signatures.
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from knock.core.schemas import Id
from knock.features.accounts.actions import Viewer
from knock.features.accounts.routes import ViewerDependency
from knock.features.albums.actions import Albums
from knock.features.albums.schemas import (
    ALBUM_PAGE_DEFAULT,
    ALBUM_PAGE_MAX,
    ITEM_PAGE_DEFAULT,
    ITEM_PAGE_MAX,
    AddItemIn,
    AlbumItemOut,
    AlbumItemPage,
    AlbumOut,
    AlbumPage,
    CreateAlbumIn,
    UpdateAlbumIn,
    UpdateItemIn,
)


def build_router(albums: Albums, current_viewer: ViewerDependency) -> APIRouter:
    router = APIRouter(tags=["albums"])
    CurrentViewer = Annotated[Viewer, Depends(current_viewer)]

    @router.post("/orgs/{org_id}/albums", status_code=201)
    async def create_album(org_id: str, body: CreateAlbumIn, viewer: CurrentViewer) -> AlbumOut:
        """Create an album: a team album (any member of the team), or with conversation_id
        a conversation album (members of that conversation, which must be in this team).
        The caller owns it."""
        return await albums.do_create_album(viewer.user_id, org_id, body)

    @router.get("/orgs/{org_id}/albums")
    async def list_albums(
        org_id: str,
        viewer: CurrentViewer,
        conversation_id: Annotated[Id | None, Query()] = None,
        before: Annotated[Id | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=ALBUM_PAGE_MAX)] = ALBUM_PAGE_DEFAULT,
    ) -> AlbumPage:
        """The albums the caller may see in this team, newest first: the team's albums and
        those of the caller's conversations (only that conversation's with
        conversation_id). Members of the team."""
        return await albums.albums(viewer.user_id, org_id, conversation_id, before, limit)

    @router.get("/albums/{album_id}")
    async def get_album(album_id: str, viewer: CurrentViewer) -> AlbumOut:
        """One album. Members of its team (a team album) or of its conversation."""
        return await albums.album(viewer.user_id, album_id)

    @router.patch("/albums/{album_id}")
    async def rename_album(album_id: str, body: UpdateAlbumIn, viewer: CurrentViewer) -> AlbumOut:
        """Rename an album. Its owner and the team's admins."""
        return await albums.do_rename_album(viewer.user_id, album_id, body.title)

    @router.delete("/albums/{album_id}", status_code=204)
    async def delete_album(album_id: str, viewer: CurrentViewer) -> Response:
        """Delete an album and its items (files a message or another album holds stay).
        Its owner and the team's admins."""
        await albums.do_delete_album(viewer.user_id, album_id)
        return Response(status_code=204)

    @router.post("/albums/{album_id}/items", status_code=201)
    async def add_item(
        album_id: str, body: AddItemIn, viewer: CurrentViewer, response: Response
    ) -> AlbumItemOut:
        """Add a photo or voice photo: from your own upload (media_id, and voice_media_id
        for a voice photo) or from a photo / voice photo message you can see (not a
        burn-after-reading or recalled one). Whoever sees the album. A retry with the same
        client_item_id and body answers 200 with the original item; another body 409."""
        item, created = await albums.do_add_item(viewer.user_id, album_id, body)
        if not created:
            response.status_code = 200
        return item

    @router.get("/albums/{album_id}/items")
    async def list_items(
        album_id: str,
        viewer: CurrentViewer,
        before: Annotated[Id | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=ITEM_PAGE_MAX)] = ITEM_PAGE_DEFAULT,
    ) -> AlbumItemPage:
        """A page of the album's items, newest first. Whoever sees the album."""
        return await albums.items(viewer.user_id, album_id, before, limit)

    @router.patch("/albums/{album_id}/items/{item_id}")
    async def edit_item(
        album_id: str, item_id: str, body: UpdateItemIn, viewer: CurrentViewer
    ) -> AlbumItemOut:
        """Change an item's caption. Who added it, the album's owner and the team's admins."""
        return await albums.do_edit_caption(viewer.user_id, album_id, item_id, body.caption)

    @router.delete("/albums/{album_id}/items/{item_id}", status_code=204)
    async def remove_item(album_id: str, item_id: str, viewer: CurrentViewer) -> Response:
        """Take an item out of the album (its files stay while a message or another item
        holds them). Who added it, the album's owner and the team's admins."""
        await albums.do_remove_item(viewer.user_id, album_id, item_id)
        return Response(status_code=204)

    return router
