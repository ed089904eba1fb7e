# No `from __future__ import annotations` here: FastAPI must see the route signatures.
import re
import tempfile
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.responses import StreamingResponse

from knock.core.errors import InvalidInput, error_response
from knock.features.accounts.actions import Viewer
from knock.features.accounts.routes import ViewerDependency
from knock.features.media.actions import MediaLibrary
from knock.features.media.processing import FileTooLarge
from knock.features.media.schemas import MediaOut

# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 16 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


async def _capped(request: Request, cap: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > cap:
            raise FileTooLarge(f"An upload may be at most {cap - MULTIPART_OVERHEAD} bytes.")
        yield chunk


async def receive_file(request: Request, scratch: Path, cap: int) -> Path:
    """The multipart field ``file`` streamed into a scratch file; never more than ``cap``
    bytes are read from the client, whatever Content-Length says."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise InvalidInput("Send the file as multipart/form-data in a field named file.")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise FileTooLarge(f"An upload may be at most {cap - MULTIPART_OVERHEAD} bytes.")
    parser = MultiPartParser(
        request.headers, _capped(request, cap), max_files=1, max_fields=0, max_part_size=1024
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidInput(f"file: {exc.message}") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("file: send the file in a multipart field named file.")
        with tempfile.NamedTemporaryFile(dir=scratch, prefix="up-", delete=False) as target:
            while chunk := await upload.read(64 * 1024):
                target.write(chunk)
        return Path(target.name)
    finally:
        await form.close()


def _content_disposition(filename: str, extension: str) -> str:
    # Our own id and a fixed extension: ASCII only, nothing from the uploader's name.
    return f'inline; filename="{filename}.{extension}"'


_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "audio/ogg": "ogg",
    "audio/webm": "webm",
    "audio/mp4": "m4a",
    "audio/wav": "wav",
}


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a single byte range; None if it cannot be satisfied."""
    match = _RANGE.match(header.strip())
    if match is None or size == 0:
        return None
    first, last = match.groups()
    if first == "":
        if last == "" or int(last) == 0:
            return None
        return max(0, size - int(last)), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or end < start:
        return None
    return start, end


def build_router(media: MediaLibrary, current_viewer: ViewerDependency) -> APIRouter:
    router = APIRouter(tags=["media"])
    CurrentViewer = Annotated[Viewer, Depends(current_viewer)]

    @router.post(
        "/media",
        status_code=201,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    }
                },
            }
        },
    )
    async def upload_media(request: Request, viewer: CurrentViewer) -> MediaOut:
        """Upload an image (JPEG, PNG, WebP, GIF) or a recording (Opus in WebM or Ogg, AAC
        in MP4, WAV) in the multipart field ``file``. Anyone signed in. The type is read
        from the content; images are re-encoded without metadata, audio remuxed without
        tags. The upload is yours alone until a message holds it. At most
        ``KNOCK_MEDIA_UPLOADS_PER_MINUTE`` uploads a minute per person (then 429)."""
        await media.check_upload_rate(viewer.user_id)
        path = await receive_file(
            request, media.scratch, media.max_upload_bytes + MULTIPART_OVERHEAD
        )
        return await media.do_upload(viewer.user_id, path)

    @router.get(
        "/media/{media_id}",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}, 206: {}, 416: {}},
    )
    async def get_media(
        media_id: str,
        request: Request,
        viewer: CurrentViewer,
        thumb: Annotated[bool, Query()] = False,
    ) -> Response:
        """The file's bytes (``thumb=1``: a 320 px WebP thumbnail of an image). Its uploader
        before it is sent; afterwards whoever may see the message's content. Audio answers
        byte ranges (206)."""
        found = await media.download(viewer.user_id, media_id, thumb)
        headers = {
            "Content-Disposition": _content_disposition(
                found.filename + ("-thumb" if thumb else ""), _EXTENSIONS.get(found.mime, "bin")
            ),
            "Cache-Control": "private, max-age=86400",
            "Accept-Ranges": "bytes" if found.kind == "audio" else "none",
        }
        range_header = request.headers.get("range")
        if range_header and found.kind == "audio":
            span = parse_range(range_header, found.size)
            if span is None:
                return error_response(
                    416,
                    "range_not_satisfiable",
                    f"Range: this file has {found.size} bytes; ask for one range within them.",
                    {"Content-Range": f"bytes */{found.size}"},
                )
            start, end = span
            headers["Content-Range"] = f"bytes {start}-{end}/{found.size}"
            headers["Content-Length"] = str(end - start + 1)
            return StreamingResponse(
                media.open(found.key, start, end - start + 1),
                status_code=206,
                media_type=found.mime,
                headers=headers,
            )
        headers["Content-Length"] = str(found.size)
        return StreamingResponse(
            media.open(found.key, 0, found.size), media_type=found.mime, headers=headers
        )

    return router
