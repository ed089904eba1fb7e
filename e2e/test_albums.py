"""Team albums in the web client: save a photo from a chat, see it in the album grid (for
another member too), open it full screen with its caption, add a photo from an upload."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser, expect

from e2e.api import Account, Api
from e2e.test_chat import go_to, open_person
from e2e.test_media_burn import png
from e2e.test_messages import sign_in

pytestmark = pytest.mark.slow


def send_photo(
    api: Api, who: Account, conv: str, caption: str, burn_after_s: int | None = None
) -> None:
    upload = api.http.post(
        "/media",
        files={"file": ("photo.png", png(), "image/png")},
        headers={"Authorization": f"Bearer {who.token}"},
    )
    upload.raise_for_status()
    body = {
        "client_msg_id": str(uuid.uuid4()),
        "type": "image",
        "text": caption,
        "media_ids": [upload.json()["id"]],
        "burn_after_s": burn_after_s,
    }
    api.call(who, "POST", f"/conversations/{conv}/messages", body)


def test_save_a_photo_to_an_album_and_see_it_in_the_grid(server: str, browser: Browser) -> None:
    with Api(server) as api:
        ann, ben = api.register("Ann Album"), api.register("Ben Album")
        org = api.team_with(ann, [ben], "Album team")
        conv = api.conversation(ann, org, [ben])
        send_photo(api, ben, conv, "Kickoff at the lake")

    ann_person = open_person(browser, "Ann", "phone")
    ben_person = open_person(browser, "Ben", "desktop")
    try:
        page = ann_person.page
        sign_in(page, server, ann)
        page.get_by_test_id("conversation-item").first.click()
        page.get_by_role("button", name="Open photo").click()
        viewer = page.get_by_test_id("media-viewer")
        expect(viewer.get_by_text("Kickoff at the lake")).to_be_visible()
        viewer.get_by_role("button", name="Save to album").click()
        save = page.get_by_role("dialog", name="Save to album")
        save.get_by_label("New album name").fill("Offsite 2026")
        save.get_by_role("button", name="Create and save").click()
        expect(save.get_by_text("Saved to Offsite 2026")).to_be_visible()
        save.get_by_role("button", name="Close").click()
        page.keyboard.press("Escape")
        expect(viewer).to_have_count(0)

        # Another member of the team sees the album, its photo and the caption.
        ben_page = ben_person.page
        sign_in(ben_page, server, ben)
        go_to(ben_person, "Team")
        tile = ben_page.get_by_test_id("album-tile").filter(has_text="Offsite 2026")
        expect(tile).to_contain_text("1 photos")
        tile.click()
        album = ben_page.get_by_role("dialog", name="Offsite 2026")
        grid = album.get_by_test_id("album-grid")
        expect(grid.get_by_test_id("album-item")).to_have_count(1)
        grid.get_by_role("button", name="Kickoff at the lake").click()
        item_viewer = ben_page.get_by_test_id("media-viewer")
        expect(item_viewer.get_by_role("img", name="Photo")).to_be_visible()
        assert item_viewer.get_by_role("img", name="Photo").evaluate("img => img.naturalWidth > 0")
        # Only who added it, the album's owner and admins may change the caption.
        expect(item_viewer.get_by_role("button", name="Edit caption")).to_have_count(0)
        ben_page.keyboard.press("Escape")
        expect(item_viewer).to_have_count(0)

        # Adding from an upload puts the new photo first; its adder may caption it.
        album.get_by_test_id("album-file").set_input_files(
            {"name": "team.png", "mimeType": "image/png", "buffer": png(80, 60)}
        )
        expect(grid.get_by_test_id("album-item")).to_have_count(2)
        expect(grid.get_by_test_id("album-item").nth(1)).to_have_accessible_name(
            "Kickoff at the lake"
        )
        grid.get_by_test_id("album-item").first.click()
        item_viewer.get_by_role("button", name="Edit caption").click()
        item_viewer.get_by_label("Caption (optional)").fill("The whole team")
        item_viewer.get_by_role("button", name="Save").click()
        expect(item_viewer.get_by_text("The whole team")).to_be_visible()
        ben_page.keyboard.press("Escape")
        expect(grid.get_by_role("button", name="The whole team")).to_be_visible()
        assert ann_person.problems == [] and ben_person.problems == []
    finally:
        ann_person.context.close()
        ben_person.context.close()


def test_burn_photos_cannot_be_saved_to_an_album(server: str, browser: Browser) -> None:
    with Api(server) as api:
        ann, ben = api.register("Ann Burnalbum"), api.register("Ben Burnalbum")
        org = api.team_with(ann, [ben], "Burn album team")
        conv = api.conversation(ann, org, [ben])
        send_photo(api, ben, conv, "Secret sketch", burn_after_s=60)

    person = open_person(browser, "Ann", "desktop")
    try:
        page = person.page
        sign_in(page, server, ann)
        page.get_by_test_id("conversation-item").first.click()
        page.get_by_test_id("messages").get_by_role("button", name="Burn after reading").click()
        page.get_by_role("button", name="Open photo").click()
        viewer = page.get_by_test_id("media-viewer")
        expect(viewer.get_by_role("img", name="Photo")).to_be_visible()
        expect(viewer.get_by_role("button", name="Save to album")).to_have_count(0)
    finally:
        person.context.close()
