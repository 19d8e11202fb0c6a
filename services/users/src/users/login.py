"""Password login with a per-email lockout kept in Postgres.

Attempts for one email are serialized by a transaction-scoped advisory lock,
so concurrent guesses (on any replica) cannot slip past the limit. Unknown
emails are treated exactly like known ones: same hashing cost, same lockout.
"""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from users import repository
from users.models import User
from users.passwords import PasswordHasher


class IncorrectCredentialsError(Exception):
    pass


class LockedOutError(Exception):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"locked out for {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int
    window_seconds: int


async def authenticate(
    session: AsyncSession,
    hasher: PasswordHasher,
    policy: LockoutPolicy,
    *,
    email: str,
    password: str,
) -> User:
    key = repository.email_key(email)
    await repository.lock_email(session, key)
    seconds_left = await repository.lockout_seconds_left(
        session, key, max_failures=policy.max_failures, window_seconds=policy.window_seconds
    )
    if seconds_left:
        await session.rollback()
        raise LockedOutError(seconds_left)

    user = await repository.get_user_by_email(session, email)
    valid, new_hash = await hasher.verify(password, user.hashed_password if user else None)
    if user is None or not valid or not user.is_active:
        await repository.record_login_failure(session, key, window_seconds=policy.window_seconds)
        await session.commit()
        raise IncorrectCredentialsError

    if new_hash is not None:
        await repository.set_password_hash(session, user.id, new_hash)
    await repository.clear_login_failures(session, key)
    await session.commit()
    return user
