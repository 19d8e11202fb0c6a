"""Which methods a path serves: ``HEAD`` wherever ``GET`` is, and a truthful ``Allow``.

FastAPI routes declare one operation each, so a path such as ``/api/v1/items/``
is several routes (``GET``, ``POST``); Starlette's ``405`` names only the
methods of the first route whose path matched, and no FastAPI route serves
``HEAD``. Here the answer is about the path, across all its routes:

- ``HEAD`` runs the path's ``GET`` route; the server sends the headers without
  the body (RFC 9110 section 9.3.2);
- ``405 Method Not Allowed`` lists every method the path serves in ``Allow``
  (section 15.5.6). ``OPTIONS`` stays ``405``, except a CORS preflight when CORS
  is configured, which the CORS middleware answers before any route.
"""

from collections.abc import Iterable

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

#: The methods a route may declare, asked one by one (a route's matching is the
#: router's documented interface; how it stores its methods is not).
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")


def serves(routes: Iterable[BaseRoute], scope: Scope, method: str) -> bool:
    probe = {**scope, "method": method}
    return any(route.matches(probe)[0] is Match.FULL for route in routes)


def served_methods(routes: Iterable[BaseRoute], scope: Scope) -> set[str]:
    """Every method some route serves at the path of ``scope``; ``HEAD`` where ``GET`` is."""
    methods = {method for method in METHODS if serves(routes, scope, method)}
    if "GET" in methods:
        methods.add("HEAD")
    return methods


class HeadAsGetMiddleware:
    """Serves ``HEAD`` with the ``GET`` route of its path, when the app has one."""

    def __init__(self, app: ASGIApp, *, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "HEAD"
            and not serves(self.routes, scope, "HEAD")
            and serves(self.routes, scope, "GET")
        ):
            # The server still sees HEAD in its own scope and sends no body.
            scope = {**scope, "method": "GET"}
        await self.app(scope, receive, send)


async def method_not_allowed(request: Request, error: Exception) -> JSONResponse:
    allowed = served_methods(request.app.router.routes, request.scope)
    return JSONResponse(
        {"detail": "Method Not Allowed"},
        status_code=405,
        headers={"Allow": ", ".join(sorted(allowed))},
    )
