"""``Database`` queries keep SQLAlchemy's semantics: they run on its own execution path."""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    bindparam,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeEngine

from flotilla.db import Database

from ..conftest import settings_for


def notes_table(text_type: TypeEngine[str]) -> Table:
    """The ``notes`` table of the library's test migrations, with ``text`` read as ``text_type``."""
    return Table(
        "notes", MetaData(), Column("id", Integer, primary_key=True), Column("text", text_type)
    )


class Shouted(TypeDecorator[str]):
    """Text that reads back in capitals: a conversion only SQLAlchemy knows about."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(value).upper()


notes = notes_table(String(200))
shouted_notes = notes_table(Shouted(200))


@dataclass
class Note:
    id: int
    text: str


BY_ID = select(notes).where(notes.c.id == bindparam("id"))
ADD = insert(notes).returning(notes.c.id, notes.c.text)


async def test_rows_come_back_as_the_model(rolled_back_database: Database) -> None:
    added = await rolled_back_database.fetch_one(ADD, {"text": "first"}, model=Note)

    assert added is not None
    assert await rolled_back_database.fetch_one(BY_ID, {"id": added.id}, model=Note) == added


async def test_a_missing_row_is_none(rolled_back_database: Database) -> None:
    assert await rolled_back_database.fetch_one(BY_ID, {"id": -1}, model=Note) is None


async def test_a_constraint_violation_is_sqlalchemys_integrity_error(
    rolled_back_database: Database,
) -> None:
    added = await rolled_back_database.fetch_one(ADD, {"text": "taken"}, model=Note)
    assert added is not None

    with pytest.raises(IntegrityError):
        async with rolled_back_database.transaction() as tx:
            await tx.execute(insert(notes), {"id": added.id, "text": "again"})

    assert await rolled_back_database.fetch_all(select(notes), model=Note) == [added]


async def test_a_type_sqlalchemy_converts_is_converted(rolled_back_database: Database) -> None:
    added = await rolled_back_database.fetch_one(ADD, {"text": "quiet"}, model=Note)
    assert added is not None

    statement = select(shouted_notes).where(shouted_notes.c.id == added.id)
    found = await rolled_back_database.fetch_one(statement, model=Note)

    assert found == Note(id=added.id, text="QUIET")


async def test_an_expanding_in_list_is_expanded(rolled_back_database: Database) -> None:
    for note_text in ("a", "b", "c"):
        await rolled_back_database.execute(insert(notes), {"text": note_text})
    statement = select(notes.c.text).where(notes.c.text.in_(bindparam("texts", expanding=True)))

    found: list[dict[str, Any]] = await rolled_back_database.fetch_all(
        statement, {"texts": ["a", "c"]}, model=dict
    )

    assert sorted(row["text"] for row in found) == ["a", "c"]


async def test_a_statement_cancelled_midway_does_not_leave_its_connection_busy(
    database_url: str,
) -> None:
    settings = settings_for(database_url, database_pool_size=1)
    database = Database(settings)
    slow = asyncio.create_task(database.fetch_value(text("SELECT pg_sleep(5)")))
    await asyncio.sleep(0.5)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow

    started = time.monotonic()
    answer = await database.fetch_value(text("SELECT 1"))
    await database.dispose()

    assert answer == 1
    assert time.monotonic() - started < 2
