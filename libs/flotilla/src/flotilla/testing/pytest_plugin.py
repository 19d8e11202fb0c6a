"""pytest plugin: a real Postgres for every integration test, isolated per test.

The controlling process (the only one without xdist, the xdist controller
with it) picks a provider, starts the server and builds a template database
with the package's migrations applied (ini option ``flotilla_alembic_ini``).
Each worker clones the template into a database of its own; each test runs
in a transaction that is rolled back (SQLAlchemy's "joining a session into an
external transaction" recipe), so nothing a test writes survives it. The app
under test runs its statements on that same connection (``rolled_back_database``),
where its transactions become savepoints.
"""

import functools
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from flotilla import tracing
from flotilla.db import BoundDatabase, Database, get_database
from flotilla.devstack.registry import discover
from flotilla.migrations import upgrade_to_head
from flotilla.settings import ServiceSettings
from flotilla.testing.faults import DatabaseProxy
from flotilla.testing.postgres import (
    PostgresProvider,
    ProviderUnavailableError,
    create_database,
    drop_database,
    start_provider,
)
from flotilla.testing.servers import serve_in_thread
from flotilla.testing.tokens import SigningKey, jwks

#: What a service's ``create_app`` is: its settings in, its app out.
AppFactory = Callable[[Any], FastAPI]

_URL_KEY = "flotilla_server_url"
_TEMPLATE_KEY = "flotilla_template"
_DESCRIPTION_KEY = "flotilla_provider"


def pytest_configure(config: pytest.Config) -> None:
    """Tests never see the developer's OpenTelemetry variables: tracing is off unless a test
    asks for ``span_exporter``."""
    for name in [name for name in os.environ if name.startswith("OTEL_")]:
        del os.environ[name]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "flotilla_alembic_ini",
        "alembic.ini whose migrations make the test template database",
        default="",
    )


class _ServerState:
    """What the controlling process started, shared with workers through workerinput."""

    def __init__(self) -> None:
        self.provider: PostgresProvider | None = None
        self.server_url: URL | None = None
        self.template: str | None = None
        self.description = ""


_state = _ServerState()


def _started_server() -> URL:
    if _state.server_url is None:
        raise RuntimeError("the flotilla plugin has not started a test Postgres")
    return _state.server_url


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if _is_worker(config):
        worker_input: dict[str, Any] = config.workerinput  # type: ignore[attr-defined]
        _state.server_url = make_url(worker_input[_URL_KEY])
        _state.template = worker_input[_TEMPLATE_KEY]
        _state.description = worker_input[_DESCRIPTION_KEY]
        return
    try:
        provider, _state.server_url = start_provider()
    except ProviderUnavailableError as error:
        # A usage error: pytest prints the one line, not a traceback.
        raise pytest.UsageError(f"flotilla test Postgres: {error}") from None
    _state.provider = provider
    _state.description = provider.describe()
    _state.template = f"flotilla_tpl_{uuid.uuid4().hex[:10]}"
    create_database(_state.server_url, _state.template)
    alembic_ini = config.getini("flotilla_alembic_ini")
    if alembic_ini:
        ini_path = Path(config.inipath or config.rootpath).parent / alembic_ini
        template_url = _state.server_url.set(database=_state.template)
        upgrade_to_head(str(ini_path), template_url.render_as_string(hide_password=False))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: hand the running server to each worker."""
    node.workerinput[_URL_KEY] = _started_server().render_as_string(hide_password=False)
    node.workerinput[_TEMPLATE_KEY] = _state.template
    node.workerinput[_DESCRIPTION_KEY] = _state.description


def pytest_report_header(config: pytest.Config) -> str:
    return f"flotilla test Postgres provider: {_state.description}"


def pytest_unconfigure(config: pytest.Config) -> None:
    if _is_worker(config) or _state.provider is None:
        return
    try:
        if _state.server_url is not None and _state.template is not None:
            drop_database(_state.server_url, _state.template)
    finally:
        _state.provider.stop()
        _state.provider = None


@pytest.fixture(scope="session")
def postgres_server_url() -> URL:
    """URL of the maintenance database of the test server (for tests that make databases)."""
    return _started_server()


@pytest.fixture(scope="session")
def database_url(postgres_server_url: URL, flotilla_worker_id: str) -> Iterator[str]:
    """This worker's own database, cloned from the migrated template."""
    template = str(_state.template)
    name = f"{template}_{flotilla_worker_id}"
    url = create_database(postgres_server_url, name, template=template)
    yield url.render_as_string(hide_password=False)
    drop_database(postgres_server_url, name)


@pytest.fixture
def scratch_database(postgres_server_url: URL) -> Iterator[str]:
    """An empty database of the test's own, dropped afterwards: for migration tests."""
    name = f"scratch_{uuid.uuid4().hex[:10]}"
    url = create_database(postgres_server_url, name)
    yield url.render_as_string(hide_password=False)
    drop_database(postgres_server_url, name)


@pytest.fixture(scope="session")
def flotilla_worker_id(request: pytest.FixtureRequest) -> str:
    """xdist's worker id (``gw0``...), or ``main`` without xdist."""
    worker_input = getattr(request.config, "workerinput", None)
    return str(worker_input["workerid"]) if worker_input else "main"


@pytest.fixture(scope="session")
async def database_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def database_connection(database_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """The connection ``db_session`` runs on: one per worker, each test in its own transaction."""
    async with database_engine.connect() as connection:
        yield connection


@pytest.fixture
async def db_session(database_connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session whose commits are SAVEPOINTs in a transaction rolled back after the test."""
    transaction = await database_connection.begin()
    session = AsyncSession(
        bind=database_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        # The outer rollback first: it ends the session's savepoint too, in one round trip.
        await transaction.rollback()
        await session.close()


@pytest.fixture
async def database_proxy(postgres_server_url: URL) -> AsyncIterator[DatabaseProxy]:
    """A cuttable TCP proxy to the test server, for database-outage tests."""
    proxy = DatabaseProxy(postgres_server_url)
    await proxy.start()
    yield proxy
    await proxy.cut()


@pytest.fixture
def app(service_app_factory: AppFactory, settings: ServiceSettings) -> FastAPI:
    """The service's app with the test's ``settings`` (a service's conftest provides both)."""
    return service_app_factory(settings)


@pytest.fixture
async def proxied_client(
    service_app_factory: AppFactory,
    settings: ServiceSettings,
    database_proxy: DatabaseProxy,
    database_engine: AsyncEngine,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on a service app that reaches its database through ``database_proxy``.

    Its requests really commit (every table is emptied afterwards), so a test
    can cut the database away mid-way and see what was kept.
    """
    proxied_url = database_proxy.url_for(make_url(settings.database_url))
    app = service_app_factory(
        settings.model_copy(
            update={"database_url": proxied_url.render_as_string(hide_password=False)}
        )
    )
    async for http_client in _committing_client_for(app, database_engine):
        yield http_client


@pytest.fixture
async def rolled_back_database(db_session: AsyncSession) -> Database:
    """The service's database on ``db_session``'s connection: rolled back with the test.

    Requests and the test see each other's writes; the app's transactions are
    savepoints inside the test's transaction.
    """
    return await database_on_session(db_session)


async def database_on_session(session: AsyncSession) -> Database:
    """A :class:`Database` whose statements run on ``session``'s connection."""
    return BoundDatabase(await session.connection())


@functools.cache
def settings_prefixes() -> tuple[str, ...]:
    """Prefixes of the variables the services' settings read: every service's settings
    prefix (the gateway's too), and the first admin's variables."""
    return (*(service.env_prefix for service in discover()), "FIRST_ADMIN_")


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No settings variable from the developer's shell, no ``.env`` file: for tests of
    how settings read the environment, which then set exactly what they read."""
    unprefixed = {name.upper() for name in ServiceSettings.model_fields}
    for name in list(os.environ):
        if name.upper().startswith(settings_prefixes()) or name.upper() in unprefixed:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


async def _client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        yield client


@pytest.fixture
async def client(app: FastAPI, rolled_back_database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the service app, its database the test's rolled-back one."""
    use_database(app, rolled_back_database)
    try:
        async for http_client in _client_for(app):
            yield http_client
    finally:
        app.dependency_overrides.pop(get_database, None)


def use_database(app: FastAPI, database: Database) -> None:
    """Make the app's requests use ``database`` (e.g. ``rolled_back_database``)."""

    async def override() -> Database:
        return database

    app.dependency_overrides[get_database] = override


@pytest.fixture
async def committing_client(
    app: FastAPI, database_engine: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose requests really commit, for races and concurrency.

    Every table is emptied afterwards, so later tests still start clean.
    """
    async for http_client in _committing_client_for(app, database_engine):
        yield http_client


async def _committing_client_for(
    app: FastAPI, engine: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    try:
        async for http_client in _client_for(app):
            yield http_client
    finally:
        await truncate_all_tables(engine)


async def truncate_all_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        rows = await connection.execute(
            text(
                "SELECT quote_ident(tablename) FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        )
        tables = [row[0] for row in rows]
        if tables:
            # The names come quoted from the catalog, not from user input.
            statement = f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"
            await connection.execute(text(statement))


@pytest.fixture
def span_exporter() -> Iterator[InMemorySpanExporter]:
    """Tracing on for the apps the test creates; every finished span kept in memory.

    Create the app after this fixture (depend on it), so the app is traced.
    """
    exporter = InMemorySpanExporter()
    provider = tracing.build_provider("flotilla-tests", SimpleSpanProcessor(exporter))
    with tracing.tracing_with(provider):
        yield exporter
    provider.shutdown()


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    """A key standing in for the users service's: what it signs verifies at ``jwks_url``."""
    return SigningKey()


@pytest.fixture(scope="session")
def jwks_url(signing_key: SigningKey) -> Iterator[str]:
    """The users service's JWKS endpoint as a service under test reaches it: over real
    HTTP, publishing ``signing_key``."""

    async def serve_jwks(request: Request) -> JSONResponse:
        return JSONResponse(jwks([signing_key]))

    users_stub = Starlette(routes=[Route("/api/v1/auth/jwks", serve_jwks)])
    with serve_in_thread(users_stub) as base_url:
        yield f"{base_url}/api/v1/auth/jwks"
