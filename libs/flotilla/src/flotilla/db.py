"""Async SQLAlchemy on psycopg 3: one engine per process, one session per request."""

import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from flotilla.errors import internal_error
from flotilla.settings import ServiceSettings

logger = logging.getLogger(__name__)

UNAVAILABLE_DETAIL = "Service temporarily unavailable"


class Database:
    """The engine and session factory of one service.

    ``pool_pre_ping`` plus psycopg's connect timeout make the pool recover by
    itself once a lost database comes back: stale connections are replaced on
    checkout instead of failing requests forever.
    """

    def __init__(self, settings: ServiceSettings) -> None:
        statement_timeout_ms = int(settings.database_statement_timeout_seconds * 1000)
        self.engine: AsyncEngine = create_async_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_size,
            pool_pre_ping=True,
            pool_timeout=settings.database_connect_timeout_seconds,
            connect_args={
                "connect_timeout": max(1, round(settings.database_connect_timeout_seconds)),
                "options": f"-c statement_timeout={statement_timeout_ms}",
            },
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; tests override this dependency with a rolled-back one."""
    async with get_database(request).sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]

#: A primary key in a path: ids beyond bigint (either way) are a 422, not a database error.
ResourceId = Annotated[int, Path(ge=-(2**63), le=2**63 - 1)]


def is_connection_failure(error: BaseException) -> bool:
    """True when the database could not be reached, broke the connection or timed out."""
    if isinstance(error, OperationalError | PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


async def _database_unavailable(request: Request, error: Exception) -> JSONResponse:
    if not is_connection_failure(error):
        return await internal_error(request, error)
    logger.warning("database unavailable: %s", type(error.__cause__ or error).__name__)
    return JSONResponse({"detail": UNAVAILABLE_DETAIL}, status_code=503)


def install_database_error_handler(app: FastAPI) -> None:
    """Answer 503 while the database is unreachable instead of 500."""
    app.add_exception_handler(DBAPIError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
