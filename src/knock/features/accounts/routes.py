# No `from __future__ import annotations` here: FastAPI must see the route signatures.
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from knock.features.accounts.actions import Accounts, Viewer
from knock.features.accounts.schemas import AuthOut, LoginIn, RegisterIn, UserOut

_bearer = HTTPBearer(auto_error=False, description="The token from register or login.")

ViewerDependency = Callable[..., Awaitable[Viewer]]


def viewer_dependency(accounts: Accounts) -> ViewerDependency:
    """A FastAPI dependency that answers 401 unless the bearer token is valid."""

    async def current_viewer(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Viewer:
        return await accounts.authenticate(credentials.credentials if credentials else None)

    return current_viewer


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def build_router(accounts: Accounts, current_viewer: ViewerDependency) -> APIRouter:
    router = APIRouter(tags=["accounts"])
    CurrentViewer = Annotated[Viewer, Depends(current_viewer)]

    @router.post("/auth/register", status_code=201)
    async def register(body: RegisterIn) -> AuthOut:
        """Create an account and sign in. Anyone may."""
        return await accounts.do_register(body)

    @router.post("/auth/login")
    async def login(body: LoginIn, request: Request) -> AuthOut:
        """Sign in with email and password; repeated failures answer 429 with Retry-After."""
        return await accounts.do_login(body, client_address(request))

    @router.post("/auth/logout", status_code=204)
    async def logout(viewer: CurrentViewer) -> Response:
        """Revoke this token everywhere at once, closing its WebSockets. The signed-in user."""
        await accounts.do_logout(viewer)
        return Response(status_code=204)

    @router.get("/me")
    async def me(viewer: CurrentViewer) -> UserOut:
        """The signed-in user."""
        return await accounts.me(viewer)

    return router
