"""Queries on refresh-token families (one per login) and their tokens.

Times are the database's, so every replica agrees on what has expired.
Statements are built once, here, with named parameters.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Interval, bindparam, delete, func, insert, select, update

from flotilla.db import Queries
from users.models import refresh_families, refresh_tokens, users
from users.repository import UserRecord


@dataclass(frozen=True, slots=True)
class FamilyOwner:
    """The family a token belongs to, and whose it is."""

    family_id: uuid.UUID
    user_id: int


def _days_from_now() -> ColumnElement[datetime]:
    """``now()`` plus the ``:days`` parameter."""
    return func.now() + func.make_interval(0, 0, 0, bindparam("days"), type_=Interval)


#: Revoked families expire at once, so housekeeping deletes them with the expired ones.
_REVOKED = {
    "revoked_at": func.now(),
    "expires_at": func.least(refresh_families.c.expires_at, func.now()),
}
_LIVE_FAMILY = refresh_families.c.revoked_at.is_(None)
_THIS_TOKEN = refresh_tokens.c.token_hash == bindparam("hash")

_CREATE_FAMILY = insert(refresh_families).values(
    id=bindparam("family"), user_id=bindparam("user"), expires_at=_days_from_now()
)
_ADD_TOKEN = insert(refresh_tokens).values(
    token_hash=bindparam("hash"), family_id=bindparam("family"), expires_at=_days_from_now()
)
_SPEND = (
    update(refresh_tokens)
    .where(
        _THIS_TOKEN, refresh_tokens.c.spent_at.is_(None), refresh_tokens.c.expires_at > func.now()
    )
    .values(spent_at=func.now())
    .returning(refresh_tokens.c.family_id)
)
_SPENT_OWNER = (
    select(refresh_tokens.c.family_id, refresh_families.c.user_id)
    .join(refresh_families)
    .where(_THIS_TOKEN, refresh_tokens.c.spent_at.isnot(None))
)
_EXTEND_LIVE_FAMILY = (
    update(refresh_families)
    .where(
        refresh_families.c.id == bindparam("family"),
        _LIVE_FAMILY,
        users.c.id == refresh_families.c.user_id,
        users.c.is_active,
    )
    .values(expires_at=_days_from_now())
    .returning(*users.c)
)
_REVOKE_FAMILY = (
    update(refresh_families)
    .where(refresh_families.c.id == bindparam("family"), _LIVE_FAMILY)
    .values(_REVOKED)
)
_REVOKE_FAMILY_OF_TOKEN = (
    update(refresh_families)
    .where(
        refresh_families.c.id
        == select(refresh_tokens.c.family_id).where(_THIS_TOKEN).scalar_subquery(),
        _LIVE_FAMILY,
    )
    .values(_REVOKED)
    .returning(refresh_families.c.id.label("family_id"), refresh_families.c.user_id)
)
_REVOKE_USER_FAMILIES = (
    update(refresh_families)
    .where(refresh_families.c.user_id == bindparam("user"), _LIVE_FAMILY)
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


async def create_family(db: Queries, *, user_id: int, days: int) -> uuid.UUID:
    family_id = uuid.uuid4()
    await db.execute(_CREATE_FAMILY, {"family": family_id, "user": user_id, "days": days})
    return family_id


async def add_token(db: Queries, *, token_hash: bytes, family_id: uuid.UUID, days: int) -> None:
    await db.execute(_ADD_TOKEN, {"hash": token_hash, "family": family_id, "days": days})


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


async def extend_live_family(db: Queries, family_id: uuid.UUID, *, days: int) -> UserRecord | None:
    """The family's user, if both are live; the family now lives as long as its next token.

    The update locks the family row, so a concurrent revocation either
    happened first (and this finds it) or waits for this transaction.
    """
    params = {"family": family_id, "days": days}
    return await db.fetch_one(_EXTEND_LIVE_FAMILY, params, model=UserRecord)


async def revoke_family(db: Queries, family_id: uuid.UUID) -> None:
    await db.execute(_REVOKE_FAMILY, {"family": family_id})


async def revoke_family_of(db: Queries, token_hash: bytes) -> FamilyOwner | None:
    """Revoke the family of ``token_hash``; ``None`` if unknown or revoked already."""
    return await db.fetch_one(_REVOKE_FAMILY_OF_TOKEN, {"hash": token_hash}, model=FamilyOwner)


async def revoke_user_families(db: Queries, user_id: int) -> int:
    """Revoke every live family of the user; how many there were."""
    return await db.execute(_REVOKE_USER_FAMILIES, {"user": user_id})


async def delete_expired_families(db: Queries, *, limit: int) -> int:
    """Delete up to ``limit`` expired or revoked families, their tokens with them."""
    return await db.execute(_DELETE_EXPIRED_FAMILIES, {"limit": limit})


async def delete_expired_tokens(db: Queries, *, limit: int) -> int:
    """Delete up to ``limit`` expired tokens (a live family keeps only its recent ones)."""
    return await db.execute(_DELETE_EXPIRED_TOKENS, {"limit": limit})
