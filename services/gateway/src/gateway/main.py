"""The gateway app: ``uvicorn --factory gateway.main:create_app``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware import Middleware

from flotilla.app import create_service_app
from flotilla.settings import load_settings
from gateway import __version__
from gateway.client import UpstreamClient
from gateway.docs import TITLE, UpstreamDocs, serve_merged_openapi
from gateway.proxy import Proxy, ProxyMiddleware
from gateway.readiness import upstream_readiness_checks
from gateway.routing import RouteTable
from gateway.settings import GatewaySettings


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or load_settings(GatewaySettings)
    client = UpstreamClient(settings)
    routes = RouteTable(settings.routes, settings.upstream_urls)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await client.open()
        try:
            yield
        finally:
            await client.close()

    app = create_service_app(
        name="gateway",
        title=TITLE,
        version=__version__,
        description="The single public entry point: routing, limits, merged docs.",
        settings=settings,
        routers=[],
        readiness_checks=upstream_readiness_checks(
            client, settings.upstream_urls, timeout_seconds=settings.probe_timeout_seconds
        ),
        lifespan=lifespan,
    )
    docs = UpstreamDocs(
        client,
        routes,
        ttl_seconds=settings.docs_cache_seconds,
        timeout_seconds=settings.probe_timeout_seconds,
    )
    serve_merged_openapi(app, docs, routes, settings.token_url)
    # Innermost (appended, where add_middleware would put it outermost): proxied
    # requests still pass the shared request-id, metrics and headers middleware.
    proxy = Proxy(client, max_body_bytes=settings.max_body_bytes)
    app.user_middleware.append(Middleware(ProxyMiddleware, routes=routes, proxy=proxy))
    return app
