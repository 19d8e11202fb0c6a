"""Queries of the items service. Routes own the transaction (they commit)."""

from collections.abc import Mapping

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flotilla.pagination import PageParams
from items.models import items
from items.schemas import ItemCreate, ItemOut

LIKE_ESCAPE = "\\"


def escape_like(value: str) -> str:
    """``value`` as a LIKE pattern that matches itself literally (escape character ``\\``)."""
    return (
        value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def _item(row: object) -> ItemOut:
    return ItemOut.model_validate(row)


async def create_item(session: AsyncSession, data: ItemCreate, *, owner_id: int) -> ItemOut:
    statement = insert(items).values(**data.model_dump(), owner_id=owner_id).returning(*items.c)
    return _item((await session.execute(statement)).one())


async def get_item(session: AsyncSession, item_id: int) -> ItemOut | None:
    row = (await session.execute(select(items).where(items.c.id == item_id))).one_or_none()
    return None if row is None else _item(row)


async def list_items(
    session: AsyncSession, page: PageParams, *, q: str | None = None, owner_id: int | None = None
) -> tuple[list[ItemOut], int]:
    """One page ordered by id, and how many items match in total."""
    filters: list[ColumnElement[bool]] = []
    if q:
        filters.append(items.c.name.ilike(f"%{escape_like(q)}%", escape=LIKE_ESCAPE))
    if owner_id is not None:
        filters.append(items.c.owner_id == owner_id)
    total = await session.scalar(select(func.count()).select_from(items).where(*filters))
    statement = (
        select(items).where(*filters).order_by(items.c.id).offset(page.skip).limit(page.limit)
    )
    rows = await session.execute(statement)
    return [_item(row) for row in rows], total or 0


async def update_item(
    session: AsyncSession, item_id: int, values: Mapping[str, object]
) -> ItemOut | None:
    """Set ``values`` and bump ``updated_at``; ``None`` if the item is gone.

    No values means no change: the item is returned as it is.
    """
    if not values:
        return await get_item(session, item_id)
    statement = (
        update(items)
        .where(items.c.id == item_id)
        .values(**values, updated_at=func.statement_timestamp())
        .returning(*items.c)
    )
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else _item(row)


async def delete_item(session: AsyncSession, item_id: int) -> bool:
    """``True`` if the item existed."""
    statement = delete(items).where(items.c.id == item_id).returning(items.c.id)
    return (await session.execute(statement)).one_or_none() is not None
