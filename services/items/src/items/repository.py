"""Queries of the items service, as SQLAlchemy Core statements.

Every write is one statement (``... RETURNING``), atomic on its own: the
routes need no explicit transaction, and a write is acknowledged only once
Postgres has committed it.
"""

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, func, insert, select, update

from flotilla.db import PageQuery, Queries, page_query
from flotilla.pagination import PageParams
from items.models import items


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """A row of ``items``."""

    id: int
    name: str
    description: str | None
    price: int
    owner_id: int
    created_at: datetime
    updated_at: datetime


LIKE_ESCAPE = "\\"

_INSERT = insert(items).returning(*items.c)
_BY_ID = select(items).where(items.c.id == bindparam("id"))
_DELETE = delete(items).where(items.c.id == bindparam("id")).returning(items.c.id)


def escape_like(value: str) -> str:
    """``value`` as a LIKE pattern that matches itself literally (escape character ``\\``)."""
    return (
        value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


async def create_item(
    db: Queries, *, name: str, description: str | None, price: int, owner_id: int
) -> ItemRecord:
    values = {"name": name, "description": description, "price": price, "owner_id": owner_id}
    item = await db.fetch_one(_INSERT, values, model=ItemRecord)
    if item is None:  # INSERT ... RETURNING always returns the row
        raise RuntimeError("the insert returned no row")
    return item


async def get_item(db: Queries, item_id: int) -> ItemRecord | None:
    return await db.fetch_one(_BY_ID, {"id": item_id}, model=ItemRecord)


@functools.cache
def _page(by_name: bool, by_owner: bool) -> PageQuery:
    """The page-and-total statement for one combination of filters, built once."""
    statement = select(items)
    if by_name:
        statement = statement.where(items.c.name.ilike(bindparam("pattern"), escape=LIKE_ESCAPE))
    if by_owner:
        statement = statement.where(items.c.owner_id == bindparam("owner_id"))
    return page_query(statement, items.c.id)


async def list_items(
    db: Queries, page: PageParams, *, q: str | None = None, owner_id: int | None = None
) -> tuple[list[ItemRecord], int]:
    """One page ordered by id, and how many items match in total (one round trip)."""
    params: dict[str, object] = {"skip": page.skip, "limit": page.limit}
    if q:
        params["pattern"] = f"%{escape_like(q)}%"
    if owner_id is not None:
        params["owner_id"] = owner_id
    return await db.fetch_page(_page(bool(q), owner_id is not None), params, model=ItemRecord)


async def update_item(db: Queries, item_id: int, values: Mapping[str, object]) -> ItemRecord | None:
    """Set ``values`` and move ``updated_at`` on; ``None`` if the item is gone.

    ``updated_at`` is read from the clock once the row is locked, and never
    goes below the value it replaces: it grows along the order in which
    updates of one item commit, however many run at once (the
    transaction's or statement's start time would not: it is taken before
    the statement waits for the row). No values means no change: the item is
    returned as it is.
    """
    if not values:
        return await get_item(db, item_id)
    statement = (
        update(items)
        .where(items.c.id == item_id)
        .values(**values, updated_at=func.greatest(func.clock_timestamp(), items.c.updated_at))
        .returning(*items.c)
    )
    return await db.fetch_one(statement, model=ItemRecord)


async def delete_item(db: Queries, item_id: int) -> bool:
    """``True`` if the item existed."""
    return await db.fetch_value(_DELETE, {"id": item_id}) is not None
