"""Deletes uploads that no message took and no album item or approval holds within
``KNOCK_MEDIA_UNSENT_TTL_S`` (an upload taken out of its last album, or replaced in an
approval's answers, goes at the next pass),
so abandoned uploads do not fill the disk or the bucket. Deletes are idempotent: any node may
run it."""

from __future__ import annotations

from knock.features.media.actions import MediaLibrary
from knock.workers.periodic import PeriodicJob


def unsent_media_sweeper(media: MediaLibrary, interval_s: float = 300.0) -> PeriodicJob:
    return PeriodicJob(
        "media-sweeper", interval_s, media.do_purge_unsent, "deleted %d uploads never sent"
    )
