"""Queries of the users service, as SQLAlchemy Core statements on its tables."""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Interval,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from flotilla.db import Queries, page_query
from flotilla.pagination import PageParams
from users.emails import email_key
from users.models import login_failures, users

#: The unique index that makes one account per email identity.
_EMAIL_KEY = [users.c.email_identity]


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A row of ``users``."""

    id: int
    email: str
    email_identity: str
    hashed_password: str
    full_name: str | None
    is_active: bool
    is_admin: bool
    created_at: datetime


_BY_ID = select(users).where(users.c.id == bindparam("id"))
_BY_EMAIL = select(users).where(users.c.email_identity == bindparam("key"))
_PAGE = page_query(select(users), users.c.id)


def _seconds(seconds: int) -> ColumnElement[timedelta]:
    return func.make_interval(0, 0, 0, 0, 0, 0, seconds, type_=Interval)


async def create_user(
    db: Queries,
    *,
    email: str,
    hashed_password: str,
    full_name: str | None,
    is_admin: bool = False,
) -> UserRecord | None:
    """Insert a user; ``None`` if the email is taken (the unique index decides, race-free)."""
    statement = (
        pg_insert(users)
        .values(
            email=email,
            email_identity=email_key(email),
            hashed_password=hashed_password,
            full_name=full_name,
            is_admin=is_admin,
        )
        .on_conflict_do_nothing(index_elements=_EMAIL_KEY)
        .returning(*users.c)
    )
    return await db.fetch_one(statement, model=UserRecord)


async def ensure_admin(db: Queries, *, email: str, hashed_password: str) -> None:
    """Create the admin if missing, else make sure it is an active admin; idempotent."""
    statement = pg_insert(users).values(
        email=email, email_identity=email_key(email), hashed_password=hashed_password, is_admin=True
    )
    statement = statement.on_conflict_do_update(
        index_elements=_EMAIL_KEY, set_={"is_admin": True, "is_active": True}
    )
    await db.execute(statement)


async def get_user(db: Queries, user_id: int) -> UserRecord | None:
    return await db.fetch_one(_BY_ID, {"id": user_id}, model=UserRecord)


async def get_user_by_email(db: Queries, email: str) -> UserRecord | None:
    return await db.fetch_one(_BY_EMAIL, {"key": email_key(email)}, model=UserRecord)


async def list_users(db: Queries, page: PageParams) -> tuple[list[UserRecord], int]:
    """One page ordered by id, and how many users there are (one round trip)."""
    params = {"skip": page.skip, "limit": page.limit}
    return await db.fetch_page(_PAGE, params, model=UserRecord)


async def update_user(db: Queries, user_id: int, values: Mapping[str, object]) -> UserRecord | None:
    """Set ``values`` (``full_name``, ``hashed_password``); ``None`` if the user is gone."""
    if not values:
        return await get_user(db, user_id)
    statement = update(users).where(users.c.id == user_id).values(**values).returning(*users.c)
    return await db.fetch_one(statement, model=UserRecord)


async def set_password_hash(db: Queries, user_id: int, hashed_password: str) -> None:
    await db.execute(
        update(users).where(users.c.id == user_id).values(hashed_password=hashed_password)
    )


async def lock_email(db: Queries, key: str) -> None:
    """Serialize logins for one email until the transaction ends, across all replicas."""
    await db.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


async def lockout_seconds_left(
    db: Queries, key: str, *, max_failures: int, window_seconds: int
) -> int:
    """Seconds until the email may try again; 0 when it is not locked out.

    Locked while ``max_failures`` failures lie inside the window; it opens when
    the oldest of the most recent ``max_failures`` leaves the window.
    """
    window = _seconds(window_seconds)
    oldest_counted = (
        select(login_failures.c.failed_at)
        .where(
            login_failures.c.email_key == key,
            login_failures.c.failed_at > func.clock_timestamp() - window,
        )
        .order_by(login_failures.c.failed_at.desc())
        .offset(max_failures - 1)
        .limit(1)
        .scalar_subquery()
    )
    seconds = await db.fetch_value(
        select(func.extract("epoch", oldest_counted + window - func.clock_timestamp()))
    )
    return 0 if seconds is None else max(1, math.ceil(seconds))


async def record_login_failure(db: Queries, key: str, *, window_seconds: int) -> None:
    window = _seconds(window_seconds)
    await db.execute(
        delete(login_failures).where(
            login_failures.c.email_key == key,
            login_failures.c.failed_at <= func.clock_timestamp() - window,
        )
    )
    await db.execute(insert(login_failures).values(email_key=key))


async def clear_login_failures(db: Queries, key: str) -> None:
    await db.execute(delete(login_failures).where(login_failures.c.email_key == key))
