"""Queries of the items service, as SQLAlchemy Core statements built once.

Every write is one statement (``... RETURNING``), atomic on its own: the
routes need no explicit transaction, and a write is acknowledged only once
Postgres has committed it.
"""

import functools
from collections.abc import Mapping

from sqlalchemy import Select, Update, bindparam, delete, func, insert, select, update

from flotilla.db import Queries, page_query
from flotilla.pagination import PageParams
from items.models import items
from items.schemas import ItemCreate, ItemOut

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


async def create_item(db: Queries, data: ItemCreate, *, owner_id: int) -> ItemOut:
    item = await db.fetch_one(_INSERT, {**data.model_dump(), "owner_id": owner_id}, model=ItemOut)
    if item is None:  # INSERT ... RETURNING always returns the row
        raise RuntimeError("the insert returned no row")
    return item


async def get_item(db: Queries, item_id: int) -> ItemOut | None:
    return await db.fetch_one(_BY_ID, {"id": item_id}, model=ItemOut)


@functools.cache
def _page(by_name: bool, by_owner: bool) -> Select[tuple[object, ...]]:
    """The page-and-total statement for one combination of filters."""
    statement = select(items)
    if by_name:
        statement = statement.where(items.c.name.ilike(bindparam("pattern"), escape=LIKE_ESCAPE))
    if by_owner:
        statement = statement.where(items.c.owner_id == bindparam("owner_id"))
    return page_query(statement, items.c.id)


async def list_items(
    db: Queries, page: PageParams, *, q: str | None = None, owner_id: int | None = None
) -> tuple[list[ItemOut], int]:
    """One page ordered by id, and how many items match in total (one round trip)."""
    params: dict[str, object] = {"skip": page.skip, "limit": page.limit}
    if q:
        params["pattern"] = f"%{escape_like(q)}%"
    if owner_id is not None:
        params["owner_id"] = owner_id
    return await db.fetch_page(_page(bool(q), owner_id is not None), params, model=ItemOut)


@functools.cache
def _update(columns: frozenset[str]) -> Update:
    """``UPDATE`` of ``columns`` (parameters ``new_<column>``) and ``updated_at``, by ``item_id``.

    Parameters are not named after columns: SQLAlchemy would SET those.
    """
    return (
        update(items)
        .where(items.c.id == bindparam("item_id"))
        .values({column: bindparam(f"new_{column}") for column in columns})
        .values(updated_at=func.statement_timestamp())
        .returning(*items.c)
    )


async def update_item(db: Queries, item_id: int, values: Mapping[str, object]) -> ItemOut | None:
    """Set ``values`` and bump ``updated_at``; ``None`` if the item is gone.

    No values means no change: the item is returned as it is.
    """
    if not values:
        return await get_item(db, item_id)
    params = {f"new_{column}": value for column, value in values.items()}
    return await db.fetch_one(
        _update(frozenset(values)), {"item_id": item_id, **params}, model=ItemOut
    )


async def delete_item(db: Queries, item_id: int) -> bool:
    """``True`` if the item existed."""
    return await db.fetch_value(_DELETE, {"id": item_id}) is not None
