"""Async SQLAlchemy on psycopg 3: one engine per process, Core statements per request.

Tables are SQLAlchemy Core ``Table`` objects in each service's ``models.py``;
a repository runs statements on them through this module and returns its own
records (dataclasses), which routes map to their API schemas::

    GET_ITEM = select(items).where(items.c.id == bindparam("id"))
    item = await db.fetch_one(GET_ITEM, {"id": item_id}, model=ItemRecord)

Every statement runs through SQLAlchemy's documented execution path
(``AsyncConnection.execute``): its defaults, ``onupdate`` values, type
conversions, engine options, events and compiled-statement cache all apply.
A statement built on every call is still compiled once: SQLAlchemy caches the
compiled form by the statement's structure, not by the object. Building it is
work of its own, though (a :func:`page_query` takes about a millisecond), so a
statement a route runs on every request is best built once, with ``bindparam``
for its values, as a module constant or per combination of filters
(``functools.cache``); ``docs/benchmarks.md`` has the figures.

- Statements outside a transaction run in autocommit: a read is one round
  trip, with no ``BEGIN``/``ROLLBACK`` around it, and a single
  ``INSERT``/``UPDATE``/``DELETE ... RETURNING`` is atomic by itself.
- ``async with db.transaction() as tx:`` runs several statements on one
  connection, all or nothing (``BEGIN`` ... ``COMMIT``, ``ROLLBACK`` on an
  exception). A write is acknowledged only after its commit returned.
- ``await db.run_in_transaction(work)`` does the same for ``work(tx)``, and runs
  it again when Postgres rolled it back for a deadlock or a serialization
  failure (:mod:`flotilla.db_errors`), as it does for a single autocommit
  statement. An ``async with`` block cannot run itself again.

Why Core on a connection rather than an ``AsyncSession`` per request: one route
running one query, measured under load (``docs/benchmarks.md``), took 1.2 ms of
CPU per request through a session (the unit of work, plus a pre-ping
``SELECT 1``, ``BEGIN`` and ``ROLLBACK`` around every query), 0.7 ms as an
autocommit Core statement on a connection.

The pool does not pre-ping. An idle Postgres connection never has anything to
read, so on checkout a socket that is readable means the server closed the
connection (a restart, a network cut, ``pg_terminate_backend``): the checkout
event raises ``DisconnectionError`` and SQLAlchemy replaces the connection, at
no round trip. A database that is down refuses new connections: the request
gets its 503 at once, and once the database is back new connections succeed.
"""

import asyncio
import contextlib
import itertools
import logging
import random
import select as polling
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy import (
    ColumnElement,
    Executable,
    Result,
    Select,
    bindparam,
    event,
    func,
    select,
    text,
    true,
)
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from flotilla import tracing
from flotilla.db_errors import DatabaseFault, classify, is_retryable
from flotilla.errors import internal_error
from flotilla.settings import ServiceSettings
from flotilla.validation import INT64_MAX, INT64_MIN

logger = logging.getLogger(__name__)

UNAVAILABLE_DETAIL = "Service temporarily unavailable"
#: Seconds a client is asked to wait after a conflict that retrying did not resolve.
CONFLICT_RETRY_AFTER_SECONDS = 1

T = TypeVar("T")
Params = Mapping[str, Any] | None
_PING = text("SELECT 1")
#: Upper bound of the first retry's random back-off; it doubles with each attempt.
_RETRY_BACKOFF_SECONDS = 0.01


def _replace_if_closed_by_server(
    dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any
) -> None:
    """Pool checkout: an idle connection with something to read was closed by the server."""
    poller = record.info.get("poller")
    if poller is None:
        poller = polling.poll()
        poller.register(dbapi_connection.driver_connection.fileno(), polling.POLLIN)
        record.info["poller"] = poller
    if poller.poll(0):
        raise DisconnectionError("the server closed this idle connection")


@dataclass(frozen=True, slots=True)
class PageQuery:
    """A page of a statement and its total in one statement; see :func:`page_query`."""

    statement: Select[Any]
    #: The paged statement's column names, in the order its values come back.
    columns: tuple[str, ...]


def page_query(statement: Select[Any], *order_by: ColumnElement[Any]) -> PageQuery:
    """One statement for a page of ``statement`` and its total, for :meth:`Queries.fetch_page`.

    The page is ``statement`` ordered by ``order_by`` with ``OFFSET :skip LIMIT
    :limit``; it is joined to the single row of its count, so the total comes
    back even for an empty page. Each page row carries its position, and the
    outer query is ordered by it: the order never rests on the join's plan.
    Values are read by position, so the paged columns may have any names
    (``total`` included).
    """
    counted = statement.subquery("counted")
    total = select(func.count()).select_from(counted).scalar_subquery()
    position = func.row_number().over(order_by=order_by)
    page = (
        statement.add_columns(position)
        .order_by(*order_by)
        .offset(bindparam("skip"))
        .limit(bindparam("limit"))
        .lateral("page")
    )
    page_columns = list(page.c)
    count = select(total.label("total")).subquery("total")
    outer = (
        select(*count.c, *page_columns)
        .select_from(count.outerjoin(page, true()))
        .order_by(page_columns[-1])
    )
    return PageQuery(outer, tuple(statement.selected_columns.keys()))


class Queries:
    """Running statements: ``fetch_one``/``_all``/``_page``/``_value`` and ``execute``.

    Rows come back as ``model(**columns)``: a dataclass, a Pydantic model, any
    callable that takes the selected columns as keyword arguments.
    """

    def _connection(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError

    async def _execute(self, statement: Executable, params: Params) -> Result[Any]:
        """The statement's result, its rows already fetched (``AsyncConnection.execute``)."""
        async with self._connection() as connection:
            return await connection.execute(statement, params)

    async def fetch_one(
        self, statement: Executable, params: Params = None, *, model: Callable[..., T]
    ) -> T | None:
        """The first row, or ``None`` when there is none."""
        row = (await self._execute(statement, params)).mappings().first()
        return None if row is None else model(**row)

    async def fetch_all(
        self, statement: Executable, params: Params = None, *, model: Callable[..., T]
    ) -> list[T]:
        rows = (await self._execute(statement, params)).mappings()
        return [model(**row) for row in rows]

    async def fetch_page(
        self, query: PageQuery, params: Params = None, *, model: Callable[..., T]
    ) -> tuple[list[T], int]:
        """One page and how many rows there are in all, from a :func:`page_query`.

        One statement, one round trip; ``params`` must hold ``skip`` and ``limit``.
        """
        rows = (await self._execute(query.statement, params)).all()
        total: int = rows[0][0]
        # An empty page is the count's row alone: no position.
        page = [row[1:-1] for row in rows if row[-1] is not None]
        return [model(**dict(zip(query.columns, values, strict=True))) for values in page], total

    async def fetch_value(self, statement: Executable, params: Params = None) -> Any:
        """The first column of the first row (``None`` without rows)."""
        return (await self._execute(statement, params)).scalar()

    async def execute(self, statement: Executable, params: Params = None) -> int:
        """Run a statement for its effect; returns the number of rows it touched."""
        result = await self._execute(statement, params)
        return int(getattr(result, "rowcount", -1))


class Transaction(Queries):
    """Statements on one connection inside ``Database.transaction()``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._pinned = connection

    def _connection(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        return contextlib.nullcontext(self._pinned)


def create_engine(settings: ServiceSettings) -> AsyncEngine:
    """The service's engine: autocommit by default, a fixed pool, driver options from settings.

    The pool never overflows: with more requests than connections, requests
    wait for a free one (``database_connect_timeout_seconds`` at most), instead
    of opening and closing a connection (a Postgres backend) per request.
    """
    server_options = [
        f"-c statement_timeout={_milliseconds(settings.database_statement_timeout_seconds)}",
        f"-c lock_timeout={_milliseconds(settings.database_lock_timeout_seconds)}",
    ]
    engine = create_async_engine(
        settings.database_url,
        isolation_level="AUTOCOMMIT",
        pool_size=settings.database_pool_size,
        max_overflow=0,
        pool_timeout=settings.database_connect_timeout_seconds,
        connect_args={
            "connect_timeout": max(1, round(settings.database_connect_timeout_seconds)),
            "options": " ".join(server_options),
            "prepare_threshold": settings.database_prepare_threshold,
        },
    )
    event.listen(engine.sync_engine, "checkout", _replace_if_closed_by_server)
    return engine


def _milliseconds(seconds: float) -> int:
    return int(seconds * 1000)


class Database(Queries):
    """The engine of one service and the statements that run on it.

    Requests wait for a connection on a semaphore with one slot per pooled
    connection, not in the pool: a checkout that waits in SQLAlchemy's asyncio
    pool runs a task per waiter (``asyncio.wait_for``), which cost the items
    service ~8% of its throughput at 50 concurrent requests (``docs/benchmarks.md``).
    """

    def __init__(self, settings: ServiceSettings) -> None:
        self.engine: AsyncEngine = create_engine(settings)
        self.conflict_retries = settings.database_conflict_retries
        self._free_connections = asyncio.Semaphore(settings.database_pool_size)
        self._checkout_timeout = settings.database_connect_timeout_seconds

    def _connection(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        return self._checked_out()

    @contextlib.asynccontextmanager
    async def _checked_out(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection, once one is free (``PoolTimeout`` after the checkout timeout)."""
        if self._free_connections.locked():  # only a wait needs a timer
            try:
                async with asyncio.timeout(self._checkout_timeout):
                    await self._free_connections.acquire()
            except TimeoutError:
                raise PoolTimeout(
                    f"no database connection free within {self._checkout_timeout} s"
                ) from None
        else:
            await self._free_connections.acquire()
        try:
            async with contextlib.AsyncExitStack() as checkout:
                with tracing.without_spans():  # the statements get spans; the checkout none
                    connection = await checkout.enter_async_context(self.engine.connect())
                yield connection
        finally:
            self._free_connections.release()

    async def _execute(self, statement: Executable, params: Params) -> Result[Any]:
        """An autocommit statement, run again if Postgres rolled it back for a conflict."""
        return await self._retrying(lambda: super(Database, self)._execute(statement, params))

    async def _retrying(self, work: Callable[[], Awaitable[T]]) -> T:
        for attempt in itertools.count(1):
            try:
                return await work()
            except DBAPIError as error:
                if attempt > self.conflict_retries or not is_retryable(error):
                    raise
                logger.info("retrying after %s (attempt %d)", DatabaseFault.CONFLICT.value, attempt)
                # Random, growing back-off, so the two sides of a deadlock don't meet again.
                await asyncio.sleep(random.uniform(0, _RETRY_BACKOFF_SECONDS * 2**attempt))  # noqa: S311 (jitter, not a secret)
        raise AssertionError("unreachable")

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """All statements of the block on one connection: committed together or not at all."""
        async with self._checked_out() as connection:
            # Out of autocommit for this checkout; the pool restores it on return.
            await connection.execution_options(isolation_level="READ COMMITTED")
            async with connection.begin():
                yield Transaction(connection)

    async def run_in_transaction(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """``work(tx)`` in a transaction, run again (bounded) after a deadlock or a serialization
        failure, which rolled it back."""

        async def attempt() -> T:
            async with self.transaction() as tx:
                return await work(tx)

        return await self._retrying(attempt)

    async def ping(self) -> None:
        await self.fetch_value(_PING)

    async def dispose(self) -> None:
        await self.engine.dispose()


class BoundDatabase(Database):
    """A :class:`Database` whose every statement runs on one given connection.

    For tests: the pytest plugin binds the service to a connection whose
    transaction is rolled back after each test; the service's transactions
    become savepoints inside it. Single statements are not retried: a failed
    statement has already aborted the enclosing transaction.
    """

    def __init__(self, connection: AsyncConnection) -> None:  # the connection is the pool
        self.engine = connection.engine
        self.conflict_retries = 0
        self._bound = connection

    def _connection(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        return contextlib.nullcontext(self._bound)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._bound.begin_nested():
            yield Transaction(self._bound)

    async def dispose(self) -> None:
        """The connection belongs to the caller."""


async def get_database(request: Request) -> Database:
    """The app's database; tests override this dependency with a rolled-back one."""
    database: Database = request.app.state.database
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]

#: A primary key in a path: ids beyond bigint (either way) are a 422, not a database error.
ResourceId = Annotated[int, Path(ge=INT64_MIN, le=INT64_MAX)]


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    fault = classify(error)
    if fault is None:
        return await internal_error(request, error)
    logger.warning("%s: %s", fault.value, type(error.__cause__ or error).__name__)
    headers = (
        {"Retry-After": str(CONFLICT_RETRY_AFTER_SECONDS)}
        if fault is DatabaseFault.CONFLICT
        else None
    )
    return JSONResponse({"detail": UNAVAILABLE_DETAIL}, status_code=503, headers=headers)


def install_database_error_handler(app: FastAPI) -> None:
    """Answer 503 for an outage, an unresolved conflict or a timeout, instead of 500."""
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_error)
