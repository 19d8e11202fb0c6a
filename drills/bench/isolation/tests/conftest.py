"""``session``: the same test bodies under three isolation schemes, in one pytest run.

Each body runs under every scheme, one after the other (``[bare-...]``,
``[savepoint-...]``, ``[recreate-...]``), so load on the machine falls on all
three alike:

- ``savepoint``: the flotilla plugin's ``db_session``, unchanged: the migrated
  template is cloned once per run, each test runs in a transaction that is
  rolled back, the session's commits are savepoints.
- ``recreate``: the seed article's fixture: ``create_all`` before each test,
  ``drop_all`` after it, on a database of its own.
- ``bare``: the control: a plain session on the migrated database, never
  committed (closing it rolls back): what any database test pays without
  isolation machinery. A scheme's own cost is its difference to this.

``BENCH_DURATIONS`` names a JSON file that receives each test's setup, call and
teardown times (seconds), in the order the tests ran.
"""

import json
import os
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

from flotilla.testing.postgres import create_database, drop_database
from items.models import metadata

MODES = ("bare", "savepoint", "recreate")
#: Test id -> {phase: seconds}.
_durations: defaultdict[str, dict[str, float]] = defaultdict(dict)


@pytest.fixture(scope="session")
async def recreated_engine(postgres_server_url: URL) -> AsyncIterator[AsyncEngine]:
    name = f"bench_recreate_{uuid.uuid4().hex[:8]}"
    url = create_database(postgres_server_url, name)
    engine = create_async_engine(url.render_as_string(hide_password=False))
    yield engine
    await engine.dispose()
    drop_database(postgres_server_url, name)


@pytest.fixture
async def recreated_session(recreated_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """Every table created before the test and dropped after it."""
    async with recreated_engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        async with AsyncSession(recreated_engine, expire_on_commit=False) as session:
            yield session
    finally:
        async with recreated_engine.begin() as connection:
            await connection.run_sync(metadata.drop_all)


@pytest.fixture
async def bare_session(database_connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    async with AsyncSession(bind=database_connection, expire_on_commit=False) as session:
        yield session


@pytest.fixture(params=MODES)
def session(request: pytest.FixtureRequest) -> AsyncSession:
    fixture = {"bare": "bare_session", "savepoint": "db_session", "recreate": "recreated_session"}
    value: AsyncSession = request.getfixturevalue(fixture[request.param])
    return value


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _durations[report.nodeid][report.when] = report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("BENCH_DURATIONS")
    if target:
        Path(target).write_text(json.dumps(_durations))
