"""Queries of the users service."""

import math
from datetime import timedelta

from sqlalchemy import ColumnElement, Interval, delete, func, insert, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from flotilla.pagination import PageParams
from users.models import LoginFailure, User


def _seconds(seconds: int) -> ColumnElement[timedelta]:
    return func.make_interval(0, 0, 0, 0, 0, 0, seconds, type_=Interval)


def email_key(email: str) -> str:
    """The case-insensitive identity of an email, as the unique index sees it."""
    return email.strip().lower()


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    hashed_password: str,
    full_name: str | None,
    is_admin: bool = False,
) -> User | None:
    """Insert a user; ``None`` if the email is taken (the unique index decides, race-free)."""
    statement = (
        pg_insert(User)
        .values(
            email=email, hashed_password=hashed_password, full_name=full_name, is_admin=is_admin
        )
        .on_conflict_do_nothing(index_elements=[func.lower(literal_column("email"))])
        .returning(User)
    )
    return (await session.scalars(statement)).one_or_none()


async def ensure_admin(session: AsyncSession, *, email: str, hashed_password: str) -> None:
    """Create the admin if missing, else make sure it is an active admin; idempotent."""
    statement = pg_insert(User).values(email=email, hashed_password=hashed_password, is_admin=True)
    statement = statement.on_conflict_do_update(
        index_elements=[func.lower(literal_column("email"))],
        set_={"is_admin": True, "is_active": True},
    )
    await session.execute(statement)


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    statement = select(User).where(func.lower(User.email) == email_key(email))
    return (await session.scalars(statement)).one_or_none()


async def list_users(session: AsyncSession, page: PageParams) -> tuple[list[User], int]:
    total = await session.scalar(select(func.count()).select_from(User)) or 0
    statement = select(User).order_by(User.id).offset(page.skip).limit(page.limit)
    return list(await session.scalars(statement)), total


async def set_password_hash(session: AsyncSession, user_id: int, hashed_password: str) -> None:
    await session.execute(
        update(User).where(User.id == user_id).values(hashed_password=hashed_password)
    )


async def lock_email(session: AsyncSession, key: str) -> None:
    """Serialize logins for one email until the transaction ends, across all replicas."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


async def lockout_seconds_left(
    session: AsyncSession, key: str, *, max_failures: int, window_seconds: int
) -> int:
    """Seconds until the email may try again; 0 when it is not locked out.

    Locked while ``max_failures`` failures lie inside the window; it opens when
    the oldest of the most recent ``max_failures`` leaves the window.
    """
    window = _seconds(window_seconds)
    oldest_counted = (
        select(LoginFailure.failed_at)
        .where(
            LoginFailure.email_key == key, LoginFailure.failed_at > func.clock_timestamp() - window
        )
        .order_by(LoginFailure.failed_at.desc())
        .offset(max_failures - 1)
        .limit(1)
        .scalar_subquery()
    )
    seconds = await session.scalar(
        select(func.extract("epoch", oldest_counted + window - func.clock_timestamp()))
    )
    return 0 if seconds is None else max(1, math.ceil(seconds))


async def record_login_failure(session: AsyncSession, key: str, *, window_seconds: int) -> None:
    window = _seconds(window_seconds)
    await session.execute(
        delete(LoginFailure).where(
            LoginFailure.email_key == key, LoginFailure.failed_at <= func.clock_timestamp() - window
        )
    )
    await session.execute(insert(LoginFailure).values(email_key=key))


async def clear_login_failures(session: AsyncSession, key: str) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.email_key == key))
