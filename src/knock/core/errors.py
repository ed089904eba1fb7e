"""Knock's errors: one hierarchy, mapped once to HTTP answers and WebSocket closes."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response


class KnockError(Exception):
    status = 400
    code = "bad_request"
    default_message = "The request cannot be done."

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        if code is not None:
            self.code = code

    def headers(self) -> dict[str, str]:
        return {}


class Unauthorized(KnockError):
    status = 401
    code = "unauthorized"
    default_message = "Sign in first: the token is missing, invalid, expired or revoked."


class InvalidCredentials(KnockError):
    status = 401
    code = "invalid_credentials"
    default_message = "Wrong email or password."


class Forbidden(KnockError):
    status = 403
    code = "forbidden"
    default_message = "You may not do this."


class NotFound(KnockError):
    """Also what a caller gets for anything they may not see (never a 403)."""

    status = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(KnockError):
    status = 409
    code = "conflict"
    default_message = "This conflicts with the current state."


class InvalidInput(KnockError):
    status = 422
    code = "invalid_request"
    default_message = "The request is not valid."


class RateLimited(KnockError):
    status = 429
    code = "rate_limited"
    default_message = "Too many requests; try again later."

    def __init__(self, retry_after_s: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


def error_body(code: str, message: str) -> bytes:
    return orjson.dumps({"error": {"code": code, "message": message}})


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        error_body(code, message),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def knock_error_response(exc: KnockError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.headers())


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{loc or 'body'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "The request is not valid."


def install_error_handlers(app: FastAPI) -> None:
    async def on_knock_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, KnockError)
        return knock_error_response(exc)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, "invalid_request", _describe_validation(exc))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "error")
        detail: Any = exc.detail
        message = detail if isinstance(detail, str) else "Request failed."
        if exc.status_code == 404:
            message = "Not found."
        return error_response(exc.status_code, code, message, dict(exc.headers or {}))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        return error_response(500, "internal_error", "Something went wrong on the server.")

    app.add_exception_handler(KnockError, on_knock_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
