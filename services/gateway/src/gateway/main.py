"""The gateway app: ``uvicorn --factory gateway.main:create_app``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware import Middleware

from flotilla.app import create_service_app
from flotilla.periodic import running_every
from flotilla.settings import load_settings
from gateway import __version__
from gateway.balancer import Balancer, Resolver, readyz_probe, system_resolver
from gateway.client import UpstreamClient
from gateway.docs import TITLE, UpstreamDocs, serve_merged_openapi
from gateway.proxy import Proxy, ProxyMiddleware
from gateway.readiness import upstream_readiness_checks
from gateway.routing import RouteTable
from gateway.settings import GatewaySettings


def create_app(
    settings: GatewaySettings | None = None, *, resolver: Resolver = system_resolver
) -> FastAPI:
    """``resolver`` turns an upstream's host name into its addresses (tests pass a fake)."""
    settings = settings or load_settings(GatewaySettings)
    client = UpstreamClient(settings)
    routes = RouteTable(settings.routes, settings.upstream_urls)
    balancer = Balancer(
        settings.upstream_urls,
        resolver=resolver,
        probe=readyz_probe(lambda: client.session, settings.probe_timeout_seconds),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await client.open()
        await balancer.refresh_all()  # the first requests already find their addresses
        try:
            async with running_every(
                settings.upstream_refresh_seconds, balancer.refresh_all, name="upstream-refresh"
            ):
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
        readiness_checks=upstream_readiness_checks(balancer),
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
    proxy = Proxy(client, balancer, max_body_bytes=settings.max_body_bytes)
    app.user_middleware.append(Middleware(ProxyMiddleware, routes=routes, proxy=proxy))
    return app
