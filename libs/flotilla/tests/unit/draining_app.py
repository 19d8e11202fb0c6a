"""A service app with no database and one slow route, served by real uvicorn processes
in ``test_graceful_shutdown.py``: ``uvicorn --factory tests.unit.draining_app:create_app``."""

import asyncio

from fastapi import APIRouter, FastAPI

from flotilla.app import create_service_app
from flotilla.settings import Environment, ServiceSettings

DRAIN_SECONDS = 2.0
SLOW_SECONDS = 1.5

router = APIRouter()


@router.get("/slow")
async def slow() -> dict[str, str]:
    await asyncio.sleep(SLOW_SECONDS)
    return {"status": "finished"}


def create_app() -> FastAPI:
    settings = ServiceSettings(environment=Environment.TEST, drain_seconds=DRAIN_SECONDS)
    return create_service_app(name="draining", version="0", settings=settings, routers=[router])
