"""Each test's writes vanish with it; each xdist worker has a database of its own."""

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def test_a_committed_row_is_visible_within_its_test(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    response = await client.post("/notes", json={"text": "written by the first test"})

    assert response.status_code == 201
    assert await db_session.scalar(text("SELECT count(*) FROM notes")) == 1


async def test_the_row_of_the_previous_test_is_gone(db_session: AsyncSession) -> None:
    assert await db_session.scalar(text("SELECT count(*) FROM notes")) == 0


async def test_each_worker_uses_its_own_database(
    db_session: AsyncSession, flotilla_worker_id: str
) -> None:
    name = await db_session.scalar(text("SELECT current_database()"))

    assert name is not None
    assert name.endswith(f"_{flotilla_worker_id}")


async def test_the_template_database_has_the_migrations(db_session: AsyncSession) -> None:
    assert await db_session.scalar(text("SELECT version_num FROM alembic_version")) == "0002"


async def test_committing_client_really_commits_then_cleans_up(
    committing_client: httpx.AsyncClient,
) -> None:
    for index in range(3):
        await committing_client.post("/notes", json={"text": f"note {index}"})

    response = await committing_client.get("/notes/count")

    assert response.json() == {"count": 3}
