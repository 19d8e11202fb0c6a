"""Async SQLAlchemy on psycopg 3: one engine per process, Core statements per request.

Routes take ``db: DatabaseDep`` and run SQLAlchemy Core statements through it::

    GET_ITEM = select(items).where(items.c.id == bindparam("id"))
    item = await db.fetch_one(GET_ITEM, {"id": item_id}, model=ItemOut)

- Statements outside a transaction run in autocommit: a read is one round
  trip, with no ``BEGIN``/``ROLLBACK`` around it, and a single
  ``INSERT``/``UPDATE``/``DELETE ... RETURNING`` is atomic by itself.
- ``async with db.transaction() as tx:`` runs several statements on one
  connection, all or nothing (``BEGIN`` ... ``COMMIT``, ``ROLLBACK`` on an
  exception). A write is acknowledged only after its commit returned.
- Statements built once (module constants with ``bindparam``) are compiled once;
  psycopg prepares what a connection runs repeatedly.
- SQLAlchemy compiles a statement and checks out the connection; psycopg runs
  the compiled SQL on it (:mod:`flotilla.compiled`), unless the statement needs
  SQLAlchemy's own type conversions, and then SQLAlchemy runs it.

Why Core on a connection rather than an ``AsyncSession`` per request: one route
running one query, measured under load (``docs/benchmarks.md``), took 1.2 ms of
CPU per request through a session (the unit of work, plus a pre-ping ``SELECT
1``, ``BEGIN`` and ``ROLLBACK`` around every query), 0.7 ms as an autocommit
Core statement on a connection, and 0.65 ms with psycopg running the statement.

The pool does not pre-ping. An idle Postgres connection never has anything to
read, so on checkout a socket that is readable means the server closed the
connection (a restart, a network cut, ``pg_terminate_backend``): the checkout
event raises ``DisconnectionError`` and SQLAlchemy replaces the connection, at
no round trip. A database that is down refuses new connections: the request
gets its 503 at once, and once the database is back new connections succeed.
"""

import asyncio
import contextlib
import functools
import logging
import select as polling
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Annotated, Any, TypeVar, cast

import psycopg
from fastapi import Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse
from psycopg.pq import ExecStatus
from psycopg.rows import dict_row
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import Executable, Select, bindparam, event, func, select, text, true
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from flotilla import compiled
from flotilla.errors import internal_error
from flotilla.settings import ServiceSettings

logger = logging.getLogger(__name__)

UNAVAILABLE_DETAIL = "Service temporarily unavailable"

T = TypeVar("T")
Params = Mapping[str, Any] | None
#: Rows as column -> value, and the number of rows the statement touched.
_Outcome = tuple[list[dict[str, Any]], int]
_PRESENT = "_present"
_PING = text("SELECT 1")


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


def page_query(statement: Select[Any], *order_by: Any) -> Select[Any]:
    """One statement for a page of ``statement`` and its total, for :meth:`Queries.fetch_page`.

    The page is ``statement`` ordered by ``order_by`` with ``OFFSET :skip LIMIT
    :limit``; it is joined to the single row of its count, so the total comes
    back even for an empty page, and the page keeps its order (a nested loop
    over one row). Build it once (e.g. at import): it is compiled once.
    """
    counted = statement.subquery("counted")
    total = select(func.count().label("total")).select_from(counted).subquery("total")
    page = (
        statement.add_columns(true().label(_PRESENT))
        .order_by(*order_by)
        .offset(bindparam("skip"))
        .limit(bindparam("limit"))
        .lateral("page")
    )
    return select(total.c.total, page).select_from(total.outerjoin(page, true()))


@functools.cache
def _list_of(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


async def _run_directly(
    connection: AsyncConnection, direct: compiled.DirectStatement, params: Params, *, first: bool
) -> _Outcome:
    """Run ``direct`` with psycopg on the connection ``connection`` checked out.

    Errors are raised as SQLAlchemy raises them (``IntegrityError``, ...), and a
    connection the failure broke is invalidated, so the pool replaces it. A
    statement cancelled midway is cancelled on the server by psycopg, which
    leaves the connection ready for the next one.
    """
    raw_connection = await connection.get_raw_connection()
    driver = cast("psycopg.AsyncConnection[Any]", raw_connection.driver_connection)
    parameters = direct.parameters(params)
    try:
        async with driver.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(direct.sql, parameters)
            # The result's status, not ``cursor.description``: that builds a Column per field.
            result = cursor.pgresult
            if result is None or result.status != ExecStatus.TUPLES_OK:
                return [], cursor.rowcount
            if first:
                row = await cursor.fetchone()
                return ([] if row is None else [row]), cursor.rowcount
            return await cursor.fetchall(), cursor.rowcount
    except psycopg.Error as error:
        disconnected = bool(driver.closed or driver.broken)
        if disconnected:
            await connection.invalidate()
        raise DBAPIError.instance(
            direct.sql,
            parameters,
            error,
            psycopg.Error,
            hide_parameters=True,
            connection_invalidated=disconnected,
            dialect=connection.dialect,
        ) from error


def _build(model: Callable[..., T], records: list[dict[str, Any]]) -> list[T]:
    """``model(**columns)`` per row; Pydantic models validate the whole list in one call."""
    make = model
    if isinstance(model, type) and issubclass(model, BaseModel):
        built: list[T] = _list_of(model).validate_python(records)
        return built
    return [make(**record) for record in records]


class Queries:
    """Running statements: ``fetch_one``/``_all``/``_page``/``_value`` and ``execute``.

    Rows come back as ``model(**columns)``: a Pydantic model, a dataclass, any
    callable that takes the selected columns as keyword arguments.
    """

    def _connection(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError

    async def _run(self, statement: Executable, params: Params, *, first: bool = False) -> _Outcome:
        async with self._connection() as connection:
            direct = compiled.plan(statement, connection.dialect, params)
            if direct is not None:
                return await _run_directly(connection, direct, params, first=first)
            result = await connection.execute(statement, params)
            if not result.returns_rows:
                return [], result.rowcount
            if first:
                row = result.mappings().first()
                return ([] if row is None else [dict(row)]), result.rowcount
            return [dict(row) for row in result.mappings()], result.rowcount

    async def fetch_one(
        self, statement: Executable, params: Params = None, *, model: Callable[..., T]
    ) -> T | None:
        """The first row, or ``None`` when there is none."""
        rows, _ = await self._run(statement, params, first=True)
        return model(**rows[0]) if rows else None

    async def fetch_all(
        self, statement: Executable, params: Params = None, *, model: Callable[..., T]
    ) -> list[T]:
        rows, _ = await self._run(statement, params)
        return _build(model, rows)

    async def fetch_page(
        self, query: Select[Any], params: Params = None, *, model: Callable[..., T]
    ) -> tuple[list[T], int]:
        """One page and how many rows there are in all, from a :func:`page_query`.

        One statement, one round trip; ``params`` must hold ``skip`` and ``limit``.
        """
        rows, _ = await self._run(query, params)
        total: int = rows[0]["total"]
        if rows[0][_PRESENT] is None:  # the page is empty: only the count row came back
            return [], total
        for row in rows:  # fresh dicts of our own: drop the bookkeeping columns in place
            del row["total"], row[_PRESENT]
        return _build(model, rows), total

    async def fetch_value(self, statement: Executable, params: Params = None) -> Any:
        """The first column of the first row (``None`` without rows)."""
        rows, _ = await self._run(statement, params, first=True)
        return next(iter(rows[0].values())) if rows else None

    async def execute(self, statement: Executable, params: Params = None) -> int:
        """Run a statement for its effect; returns the number of rows it touched."""
        _, rowcount = await self._run(statement, params)
        return rowcount


class Transaction(Queries):
    """Statements on one connection inside ``Database.transaction()``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._pinned = connection

    def _connection(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        return contextlib.nullcontext(self._pinned)


class Database(Queries):
    """The engine of one service and the statements that run on it.

    ``pool_pre_ping`` is replaced by the checkout check above, and the pool
    never overflows: with more requests than connections, requests wait for a
    free one (``database_connect_timeout_seconds`` at most), instead of opening
    and closing a connection (a Postgres backend) per request.

    They wait on a semaphore with one slot per pooled connection, not in the
    pool: a checkout that waits in SQLAlchemy's asyncio pool runs a task per
    waiter (``asyncio.wait_for``), which cost the items service ~8% of its
    throughput at 50 concurrent requests (``docs/benchmarks.md``).
    """

    def __init__(self, settings: ServiceSettings) -> None:
        statement_timeout_ms = int(settings.database_statement_timeout_seconds * 1000)
        self.engine: AsyncEngine = create_async_engine(
            settings.database_url,
            isolation_level="AUTOCOMMIT",
            pool_size=settings.database_pool_size,
            max_overflow=0,
            pool_timeout=settings.database_connect_timeout_seconds,
            connect_args={
                "connect_timeout": max(1, round(settings.database_connect_timeout_seconds)),
                "options": f"-c statement_timeout={statement_timeout_ms}",
            },
        )
        event.listen(self.engine.sync_engine, "checkout", _replace_if_closed_by_server)
        self._bound: AsyncConnection | None = None
        self._free_connections = asyncio.Semaphore(settings.database_pool_size)
        self._checkout_timeout = settings.database_connect_timeout_seconds

    @classmethod
    def on_connection(cls, connection: AsyncConnection) -> "Database":
        """Every statement on ``connection``; transactions are savepoints inside its own.

        For tests: the pytest plugin binds the service to a connection whose
        transaction is rolled back after each test.
        """
        database = cls.__new__(cls)
        database.engine = connection.engine
        database._bound = connection
        return database

    def _connection(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        if self._bound is not None:
            return contextlib.nullcontext(self._bound)
        return self._checked_out()

    @contextlib.asynccontextmanager
    async def _checked_out(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection, once one is free (``PoolTimeout`` after the checkout timeout)."""
        if self._free_connections.locked():
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
            async with self.engine.connect() as connection:
                yield connection
        finally:
            self._free_connections.release()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """All statements of the block on one connection: committed together or not at all."""
        if self._bound is not None:
            async with self._bound.begin_nested():
                yield Transaction(self._bound)
            return
        async with self._checked_out() as connection:
            # Out of autocommit for this checkout; the pool restores it on return.
            await connection.execution_options(isolation_level="READ COMMITTED")
            async with connection.begin():
                yield Transaction(connection)

    async def ping(self) -> None:
        await self.fetch_value(_PING)

    async def dispose(self) -> None:
        if self._bound is None:
            await self.engine.dispose()


async def get_database(request: Request) -> Database:
    """The app's database; tests override this dependency with a rolled-back one."""
    database: Database = request.app.state.database
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]

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
