"""Queries on refresh-token families (one per login) and their tokens.

Times are the database's, so every replica agrees on what has expired.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Interval, bindparam, delete, func, insert, select, update

from flotilla.db import Queries
from users.models import refresh_families, refresh_tokens


@dataclass(frozen=True, slots=True)
class FamilyOwner:
    """The family a token belongs to, and whose it is."""

    family_id: uuid.UUID
    user_id: int


def _days_from_now(days: int) -> ColumnElement[datetime]:
    return func.now() + func.make_interval(0, 0, 0, days, type_=Interval)


_SPEND = (
    update(refresh_tokens)
    .where(
        refresh_tokens.c.token_hash == bindparam("hash"),
        refresh_tokens.c.spent_at.is_(None),
        refresh_tokens.c.expires_at > func.now(),
    )
    .values(spent_at=func.now())
    .returning(refresh_tokens.c.family_id)
)
_SPENT_OWNER = (
    select(refresh_tokens.c.family_id, refresh_families.c.user_id)
    .join(refresh_families)
    .where(refresh_tokens.c.token_hash == bindparam("hash"), refresh_tokens.c.spent_at.isnot(None))
)
_FAMILY_OF = select(refresh_tokens.c.family_id).where(
    refresh_tokens.c.token_hash == bindparam("hash")
)
#: Revoked families expire at once, so housekeeping deletes them with the expired ones.
_REVOKED = {
    "revoked_at": func.now(),
    "expires_at": func.least(refresh_families.c.expires_at, func.now()),
}


async def create_family(db: Queries, *, user_id: int, days: int) -> uuid.UUID:
    family_id = uuid.uuid4()
    await db.execute(
        insert(refresh_families).values(
            id=family_id, user_id=user_id, expires_at=_days_from_now(days)
        )
    )
    return family_id


async def add_token(db: Queries, *, token_hash: bytes, family_id: uuid.UUID, days: int) -> None:
    await db.execute(
        insert(refresh_tokens).values(
            token_hash=token_hash, family_id=family_id, expires_at=_days_from_now(days)
        )
    )


async def spend(db: Queries, token_hash: bytes) -> uuid.UUID | None:
    """Mark a live token spent; its family, or ``None`` if it is unknown, spent or expired.

    One conditional update: of concurrent callers exactly one gets the family,
    the others wait for its row lock and then find the token spent.
    """
    family_id: uuid.UUID | None = await db.fetch_value(_SPEND, {"hash": token_hash})
    return family_id


async def spent_token_owner(db: Queries, token_hash: bytes) -> FamilyOwner | None:
    """The family of ``token_hash`` if that token was already spent (a reuse)."""
    return await db.fetch_one(_SPENT_OWNER, {"hash": token_hash}, model=FamilyOwner)


async def extend_live_family(db: Queries, family_id: uuid.UUID, *, days: int) -> int | None:
    """Its user's id, and the family now lives as long as its next token; ``None`` if revoked.

    The update locks the family row, so a concurrent revocation either
    happened first (and this finds it) or waits for this transaction.
    """
    user_id: int | None = await db.fetch_value(
        update(refresh_families)
        .where(refresh_families.c.id == family_id, refresh_families.c.revoked_at.is_(None))
        .values(expires_at=_days_from_now(days))
        .returning(refresh_families.c.user_id)
    )
    return user_id


async def revoke_family(db: Queries, family_id: uuid.UUID) -> None:
    await db.execute(
        update(refresh_families)
        .where(refresh_families.c.id == family_id, refresh_families.c.revoked_at.is_(None))
        .values(_REVOKED)
    )


async def revoke_family_of(db: Queries, token_hash: bytes) -> FamilyOwner | None:
    """Revoke the family of ``token_hash``; ``None`` if unknown or revoked already."""
    return await db.fetch_one(
        update(refresh_families)
        .where(
            refresh_families.c.id == _FAMILY_OF.scalar_subquery(),
            refresh_families.c.revoked_at.is_(None),
        )
        .values(_REVOKED)
        .returning(refresh_families.c.id.label("family_id"), refresh_families.c.user_id),
        {"hash": token_hash},
        model=FamilyOwner,
    )


async def revoke_user_families(db: Queries, user_id: int) -> int:
    """Revoke every live family of the user; how many there were."""
    return await db.execute(
        update(refresh_families)
        .where(refresh_families.c.user_id == user_id, refresh_families.c.revoked_at.is_(None))
        .values(_REVOKED)
    )


_DELETE_EXPIRED_FAMILIES = delete(refresh_families).where(
    refresh_families.c.id.in_(
        select(refresh_families.c.id)
        .where(refresh_families.c.expires_at <= func.now())
        .limit(bindparam("limit"))
    )
)
_DELETE_EXPIRED_TOKENS = delete(refresh_tokens).where(
    refresh_tokens.c.token_hash.in_(
        select(refresh_tokens.c.token_hash)
        .where(refresh_tokens.c.expires_at <= func.now())
        .limit(bindparam("limit"))
    )
)


async def delete_expired_families(db: Queries, *, limit: int) -> int:
    """Delete up to ``limit`` expired or revoked families, their tokens with them."""
    return await db.execute(_DELETE_EXPIRED_FAMILIES, {"limit": limit})


async def delete_expired_tokens(db: Queries, *, limit: int) -> int:
    """Delete up to ``limit`` expired tokens (a live family keeps only its recent ones)."""
    return await db.execute(_DELETE_EXPIRED_TOKENS, {"limit": limit})
