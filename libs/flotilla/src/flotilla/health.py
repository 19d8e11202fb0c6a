"""Operations endpoints: liveness, readiness with named checks, Prometheus metrics."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from flotilla import tracing
from flotilla.metrics import RequestMetrics

logger = logging.getLogger(__name__)

#: A readiness check succeeds by returning and fails by raising.
ReadinessCheck = Callable[[], Awaitable[None]]

READINESS_TIMEOUT_SECONDS = 2.0

CheckResult = Literal["ok", "unavailable"]


class Readiness(BaseModel):
    """``status`` is ``ok`` when every named check is."""

    status: CheckResult
    checks: dict[str, CheckResult]


async def _run_check(name: str, check: ReadinessCheck) -> tuple[str, CheckResult]:
    try:
        await asyncio.wait_for(check(), READINESS_TIMEOUT_SECONDS)
    except Exception as error:  # any failure means "not ready"; the reason goes to the log
        logger.warning("readiness check %s failed: %s", name, type(error).__name__)
        return name, "unavailable"
    return name, "ok"


def operations_router(
    checks: Mapping[str, ReadinessCheck],
    metrics: RequestMetrics,
    *,
    draining: Callable[[], bool] = lambda: False,
) -> APIRouter:
    """``/healthz``, ``/readyz`` and ``/metrics``; ``/readyz`` is 503 while ``draining()``."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "A dependency is unavailable"}},
    )
    async def readyz() -> JSONResponse:
        with tracing.without_spans():  # polled every few seconds, part of no trace
            results = dict(await asyncio.gather(*(_run_check(n, c) for n, c in checks.items())))
        if draining():
            results["shutdown"] = "unavailable"
        ready = all(result == "ok" for result in results.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": results},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", response_class=Response)
    async def prometheus_metrics(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
