"""HTTP plumbing: security headers on every answer, a cap on request bodies, hot routes
answered without the framework, and the web client's files."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from knock.core.errors import KnockError, error_response, knock_error_response

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


# The largest valid JSON body, a group created with 100,000 member ids, is under 3 MiB.
BODY_LIMIT = 4 * 1024 * 1024
# Uploads stream to disk under their own cap (features/media/routes.py).
_UNCAPPED_PATHS = frozenset({"/api/v1/media"})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimit:
    """No request makes the server hold more than ``limit`` bytes of body: one that says it
    is larger is refused (413) before a byte of it is read; one sent without a length
    (chunked) fails with 413 as soon as it has passed the limit (raised as the framework's
    HTTPException, which its body parsing lets through to the error handlers)."""

    def __init__(self, app: ASGIApp, limit: int = BODY_LIMIT) -> None:
        self.app = app
        self.limit = limit
        self._message = f"A request body may be at most {limit // 1024} KiB."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _UNCAPPED_PATHS:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            if declared > self.limit:
                await error_response(413, "too_large", self._message)(scope, receive, send)
                return
            # The HTTP parser delivers no more than Content-Length says.
            await self.app(scope, receive, send)
            return
        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise HTTPException(413, self._message)
            return message

        await self.app(scope, capped_receive, send)


# A lean route's handler: (the path's parameters, the bearer token, the JSON body) ->
# (status, JSON answer), or None to leave the request to the framework's route.
LeanHandler = Callable[[dict[str, str], str, bytes], Awaitable[tuple[int, bytes] | None]]
_JSON_TYPES = (b"application/json", b"application/json; charset=utf-8")


class LeanRoute:
    """One hot endpoint answered without the framework's routing, dependency solving and
    response validation, which cost as much CPU as a message send itself (bench/RESULTS.md,
    session 7). It sits inside the middleware (security headers, NUL refusal, body limit,
    errors) and takes only a request with a bearer token and a JSON body of known length;
    its handler answers, or returns None before changing anything (an invalid token, an
    invalid body) and the request goes on, body and all, to the framework's route of the
    same path, which gives the documented answer. The framework's route also stays the
    endpoint's OpenAPI description."""

    def __init__(self, app: ASGIApp, method: str, path: str, handler: LeanHandler) -> None:
        self.app = app
        self.method = method
        self.path = re.compile(path)
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = (
            self.path.fullmatch(scope["path"])
            if scope["type"] == "http" and scope["method"] == self.method
            else None
        )
        token = _lean_request(scope) if found is not None else None
        if found is None or token is None:
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before sending its body: nobody to answer
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        try:
            answer = await self.handler(found.groupdict(), token, bytes(body))
        except KnockError as exc:
            await knock_error_response(exc)(scope, receive, send)
            return
        if answer is None:
            await self.app(scope, _replay(bytes(body), receive), send)
            return
        status, content = answer
        headers = [
            (b"content-length", str(len(content)).encode()),
            (b"content-type", b"application/json"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


def _lean_request(scope: Scope) -> str | None:
    """The bearer token of a request a lean route may take: a token, a JSON body and its
    length given."""
    token: str | None = None
    json = sized = False
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.partition(b" ")
            credentials = credentials.strip()
            if scheme.lower() == b"bearer" and credentials:
                token = credentials.decode("latin-1")
        elif name == b"content-type":
            json = value.lower() in _JSON_TYPES
        elif name == b"content-length":
            sized = value.isdigit()
    return token if json and sized else None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands over an already read body first."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


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
