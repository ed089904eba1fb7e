"""HTTP plumbing: security headers on every answer, and the web client's files."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from knock.core.errors import error_response

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; manifest-src 'self'; "
    "worker-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
_CSP_HEADER = (b"content-security-policy", CONTENT_SECURITY_POLICY.encode())
# For answers given outside this middleware (admission control's refusals).
SECURITY_HEADERS = (*_COMMON_HEADERS, _CSP_HEADER)
# The interactive API docs load Swagger UI with an inline script; they are a developer tool.
_CSP_EXEMPT = ("/api/v1/docs",)


class SecurityHeaders:
    """Adds nosniff, no-referrer, no framing and the strict CSP to every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exempt = str(scope.get("path", "")).startswith(_CSP_EXEMPT)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(_COMMON_HEADERS)
                if not exempt:
                    headers.append(_CSP_HEADER)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RefuseNul:
    """NUL characters have no business in Knock's input and PostgreSQL cannot store them:
    one in the path means no such thing (404), one in the query string is bad input (422).
    JSON bodies are checked by ``core.schemas.Schema``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or str(scope.get("path", "")).encode()
        in_path = b"%00" in raw_path or b"\x00" in raw_path
        in_query = b"%00" in scope.get("query_string", b"")
        if not (in_path or in_query):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if in_path:
            response = error_response(404, "not_found", "Not found.")
        else:
            response = error_response(
                422, "invalid_request", "The query must not contain NUL characters."
            )
        await response(scope, receive, send)


class WebClient:
    """Serves the built client: files as they are, index.html for every other path."""

    def __init__(self, static_dir: Path) -> None:
        self._root = static_dir.resolve()

    async def serve(self, request: Request) -> Response:
        path = request.url.path
        if path.startswith("/api/"):
            return error_response(404, "not_found", "Not found.")
        index = self._root / "index.html"
        if not index.is_file():
            return error_response(
                404, "not_found", "The web client is not built; run `make run` or `make web`."
            )
        candidate = (self._root / path.lstrip("/")).resolve()
        if candidate.is_file() and candidate.is_relative_to(self._root):
            cache = (
                "no-cache"
                if candidate.name in ("index.html", "sw.js")
                else (
                    "public, max-age=31536000, immutable"
                    if "/assets/" in path
                    else "public, max-age=3600"
                )
            )
            return FileResponse(candidate, headers={"Cache-Control": cache})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
