"""What SQLAlchemy does around a statement holds for statements run through ``flotilla.db``."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from flotilla.db import BoundDatabase, Database, page_query

#: The ledger of the library's test migrations; ``state`` has Python-side defaults.
ledger = Table(
    "ledger",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("total", Integer, nullable=False),
    Column("page_position", Integer, nullable=False),
    Column("state", String(50), default=lambda: "fresh", onupdate=lambda: "edited"),
)
notes = Table("notes", MetaData(), Column("id", Integer, primary_key=True), Column("text", String))


@dataclass
class Entry:
    id: int
    total: int
    page_position: int
    state: str | None


async def add_entries(db: Database, count: int) -> None:
    """``count`` entries whose ``total`` and ``page_position`` differ from any page's."""
    for n in range(count, 0, -1):  # inserted in descending id order
        await db.execute(insert(ledger), {"id": n, "total": 1000 + n, "page_position": -n})


async def test_a_python_side_default_is_applied_on_insert(
    rolled_back_database: Database,
) -> None:
    added = await rolled_back_database.fetch_one(
        insert(ledger).returning(*ledger.c), {"total": 1, "page_position": 1}, model=Entry
    )

    assert added is not None
    assert added.state == "fresh"


async def test_a_python_side_onupdate_is_applied_on_update(
    rolled_back_database: Database,
) -> None:
    await add_entries(rolled_back_database, 1)

    changed = await rolled_back_database.fetch_one(
        update(ledger).where(ledger.c.id == 1).values(total=2).returning(*ledger.c), model=Entry
    )

    assert changed is not None
    assert (changed.total, changed.state) == (2, "edited")


async def test_a_paged_table_may_have_columns_named_like_the_pages_own(
    rolled_back_database: Database,
) -> None:
    await add_entries(rolled_back_database, 15)
    query = page_query(select(ledger), ledger.c.id)

    page, total = await rolled_back_database.fetch_page(
        query, {"skip": 10, "limit": 10}, model=Entry
    )

    assert total == 15
    assert [(e.id, e.total, e.page_position) for e in page] == [
        (n, 1000 + n, -n) for n in range(11, 16)
    ]


async def test_an_empty_page_still_counts_the_rows(rolled_back_database: Database) -> None:
    await add_entries(rolled_back_database, 3)

    page, total = await rolled_back_database.fetch_page(
        page_query(select(ledger), ledger.c.id), {"skip": 5, "limit": 10}, model=Entry
    )

    assert (page, total) == ([], 3)


async def test_a_page_keeps_its_order_when_the_planner_joins_by_hashing(
    rolled_back_database: Database, db_session: AsyncSession
) -> None:
    await add_entries(rolled_back_database, 100)
    # Rule out the nested loop (and a merge join) the page would come back in order from.
    await db_session.execute(text("SET LOCAL enable_nestloop = off"))
    await db_session.execute(text("SET LOCAL enable_mergejoin = off"))
    page, _ = await rolled_back_database.fetch_page(
        page_query(select(ledger), ledger.c.id), {"skip": 0, "limit": 100}, model=Entry
    )

    assert [e.id for e in page] == list(range(1, 101))


async def test_a_statement_built_on_every_call_is_compiled_once(
    database_engine: AsyncEngine,
) -> None:
    compiled_cache: dict[Any, Any] = {}
    async with database_engine.connect() as connection:
        await connection.execution_options(compiled_cache=compiled_cache)
        db = BoundDatabase(connection)
        for note_id in range(5):
            statement = select(notes).where(notes.c.id == note_id)  # a new object each time
            await db.fetch_all(statement, model=dict)

    assert len(compiled_cache) == 1


async def test_an_engine_option_applies_to_every_statement(
    database_engine: AsyncEngine,
) -> None:
    elsewhere = Table("notes", MetaData(), Column("id", Integer), schema="tenant")
    async with database_engine.connect() as connection:
        await connection.execution_options(schema_translate_map={"tenant": None})
        count = await BoundDatabase(connection).fetch_value(select(elsewhere.c.id).limit(1))

    assert count is None  # "tenant.notes" was read as the default schema's empty notes


async def test_sqlalchemy_events_see_every_statement(database_engine: AsyncEngine) -> None:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(database_engine.sync_engine, "before_cursor_execute", record)
    try:
        async with database_engine.connect() as connection:
            await BoundDatabase(connection).fetch_value(select(func.count()).select_from(notes))
    finally:
        event.remove(database_engine.sync_engine, "before_cursor_execute", record)

    assert any(statement.startswith("SELECT count(*)") for statement in seen)
