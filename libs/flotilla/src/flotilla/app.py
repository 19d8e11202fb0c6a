"""The app factory every service builds on: ``create_app(settings)`` stays a few lines."""

import contextlib
import gc
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from prometheus_client import CollectorRegistry

from flotilla import tracing
from flotilla.auth import JwksClient, TokenVerifier
from flotilla.conformance import ConformanceMiddleware
from flotilla.db import Database, install_database_error_handler
from flotilla.errors import install_internal_error_handler, install_validation_error_handler
from flotilla.headers import SecurityHeadersMiddleware
from flotilla.health import ReadinessCheck, operations_router
from flotilla.logging import configure_logging
from flotilla.methods import HeadAsGetMiddleware, method_not_allowed
from flotilla.metrics import MetricsMiddleware, RequestMetrics
from flotilla.openapi import exact_openapi
from flotilla.request_id import RequestIdMiddleware
from flotilla.server import HeaderLimits
from flotilla.settings import ServiceSettings
from flotilla.shutdown import GracefulShutdown

ServiceLifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def freeze_startup_objects() -> None:
    """Exempt what start-up built (modules, routes, schemas) from cyclic garbage collection.

    They live as long as the process, yet every full collection under load
    walks them all again; frozen, they are skipped (``gc.freeze``). The
    ``gc_freeze_after_startup`` setting turns it off.
    """
    gc.collect()
    gc.freeze()


def remote_token_verifier(settings: ServiceSettings) -> TokenVerifier:
    """A verifier that trusts the keys the users service publishes at ``jwks_url``."""
    client = httpx.AsyncClient(timeout=settings.jwks_timeout_seconds)
    return TokenVerifier(
        JwksClient(settings.jwks_url, client=client),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
    )


def create_service_app(
    *,
    name: str,
    version: str,
    settings: ServiceSettings,
    routers: Iterable[APIRouter],
    database: Database | None = None,
    token_verifier: TokenVerifier | None = None,
    readiness_checks: Mapping[str, ReadinessCheck] | None = None,
    lifespan: ServiceLifespan | None = None,
    description: str = "",
    title: str | None = None,
) -> FastAPI:
    configure_logging(name, settings.log_level)
    jwks = (
        token_verifier.keys
        if token_verifier is not None and isinstance(token_verifier.keys, JwksClient)
        else None
    )
    tracing.start(name)  # the instrumentations below do nothing unless it turned tracing on
    if database is not None:
        tracing.instrument_engine(database.engine)
    if jwks is not None:
        tracing.instrument_http_client(jwks.http_client)
    checks = dict(readiness_checks or {})
    shutdown = GracefulShutdown(settings.drain_seconds)
    if database is not None:
        checks.setdefault("database", database.ping)

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
        shutdown.install()
        try:
            async with lifespan(app) if lifespan else contextlib.nullcontext():
                if settings.gc_freeze_after_startup:
                    freeze_startup_objects()
                yield
        finally:
            if database is not None:
                await database.dispose()
            if jwks is not None:
                await jwks.aclose()
            tracing.flush()

    # No slash redirects: collection paths answer with and without the slash.
    # FastAPI's OpenTelemetry hooks make the server spans when tracing is on, and
    # stay off otherwise (unconfigured, they still cost ~10 µs a request).
    # /docs and /redoc load Swagger UI and ReDoc from the app itself, not from CDNs.
    app = FastAPIOffline(
        title=title or name,
        version=version,
        description=description,
        lifespan=app_lifespan,
        redirect_slashes=False,
        telemetry=tracing.telemetry_config(),
    )
    app.openapi = exact_openapi(app, settings.token_url)  # type: ignore[method-assign]
    app.state.settings = settings
    app.state.database = database
    app.state.token_verifier = token_verifier

    metrics = RequestMetrics(CollectorRegistry())
    app.include_router(operations_router(checks, metrics, draining=lambda: shutdown.draining))
    for router in routers:
        app.include_router(router)

    install_internal_error_handler(app)
    app.add_exception_handler(405, method_not_allowed)
    install_validation_error_handler(app)
    if database is not None:
        install_database_error_handler(app)

    # Added innermost first: the request id wraps everything, so the access
    # log line and every error response carry it.
    app.add_middleware(HeadAsGetMiddleware, routes=app.router.routes)
    if settings.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Location", "Retry-After"],
        )
    app.add_middleware(ConformanceMiddleware, limits=HeaderLimits.of(settings))
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)
    return app
