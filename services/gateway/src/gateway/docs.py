"""``GET /openapi.json``: the merged document, from upstream documents fetched and cached.

Each upstream's document is reused for ``docs_cache_seconds``. An upstream
that does not answer leaves the last document fetched from it in use, or, if
there is none, its paths out of the merged document: the docs degrade, the
gateway does not. FastAPI's ``/docs`` page reads ``/openapi.json``, so it
shows the merged document as it is.
"""

import asyncio
import logging
import time
from typing import Any

import aiohttp
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.routing import Route as StarletteRoute

from flotilla.openapi import use_token_url
from gateway.client import UpstreamClient
from gateway.openapi_merge import OpenApi, merge_openapi
from gateway.routing import RouteTable

logger = logging.getLogger(__name__)

TITLE = "Flotilla API"


class UpstreamDocs:
    """The upstreams' OpenAPI documents, fetched on demand and kept for ``ttl_seconds``."""

    def __init__(
        self,
        client: UpstreamClient,
        routes: RouteTable,
        *,
        ttl_seconds: float,
        timeout_seconds: float,
    ) -> None:
        self._client = client
        self._routes = routes
        self._ttl = ttl_seconds
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._cache: dict[str, tuple[float, OpenApi]] = {}
        self._lock = asyncio.Lock()

    async def documents(self) -> dict[str, OpenApi]:
        """Upstream name -> its document, for the upstreams that have one."""
        async with self._lock:  # one refresh at a time, not one per concurrent request
            now = time.monotonic()
            stale = [
                name
                for name in self._routes.upstreams
                if name not in self._cache or now - self._cache[name][0] >= self._ttl
            ]
            fetched = await asyncio.gather(*(self._fetch(name) for name in stale))
            for name, document in zip(stale, fetched, strict=True):
                if document is not None:
                    self._cache[name] = (now, document)
        return {name: document for name, (_, document) in self._cache.items()}

    async def _fetch(self, name: str) -> OpenApi | None:
        url = f"{self._routes.upstreams[name].base_url}/openapi.json"
        try:
            async with self._client.session.get(url, timeout=self._timeout) as response:
                response.raise_for_status()
                document: Any = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            logger.warning("OpenAPI document of %s unavailable: %s", name, type(error).__name__)
            return None
        if not isinstance(document, dict):
            logger.warning("OpenAPI document of %s is not an object", name)
            return None
        return document


def serve_merged_openapi(
    app: FastAPI, docs: UpstreamDocs, routes: RouteTable, token_url: str
) -> None:
    """Replace FastAPI's ``/openapi.json`` (the gateway's own routes only) with the merged one."""
    url = app.openapi_url or "/openapi.json"
    app.router.routes[:] = [
        route
        for route in app.router.routes
        if not (isinstance(route, StarletteRoute) and route.path == url)
    ]

    async def merged_openapi() -> JSONResponse:
        document = merge_openapi(
            app.openapi(), await docs.documents(), routes, title=TITLE, version=app.version
        )
        use_token_url(document, token_url)  # the upstreams' logins, through this gateway
        return JSONResponse(document)

    app.add_api_route(url, merged_openapi, methods=["GET"], include_in_schema=False)
