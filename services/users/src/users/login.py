"""Password login with a per-email lockout kept in Postgres.

Attempts for one email are serialized by a transaction-scoped advisory lock,
so concurrent guesses (on any replica) cannot slip past the limit. Unknown
emails are treated exactly like known ones: same hashing cost, same lockout.
"""

from dataclasses import dataclass

from flotilla.db import Database
from users import repository
from users.emails import email_key
from users.passwords import PasswordHasher
from users.repository import UserRecord


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
    db: Database,
    hasher: PasswordHasher,
    policy: LockoutPolicy,
    *,
    email: str,
    password: str,
) -> UserRecord:
    key = email_key(email)
    async with db.transaction() as tx:
        await repository.lock_email(tx, key)
        seconds_left = await repository.lockout_seconds_left(
            tx, key, max_failures=policy.max_failures, window_seconds=policy.window_seconds
        )
        if seconds_left:
            raise LockedOutError(seconds_left)  # rolls back: nothing to keep

        user = await repository.get_user_by_email(tx, email)
        valid, new_hash = await hasher.verify(password, user.hashed_password if user else None)
        if user is not None and valid and user.is_active:
            if new_hash is not None:
                await repository.set_password_hash(tx, user.id, new_hash)
            await repository.clear_login_failures(tx, key)
            return user  # once the block has committed
        await repository.record_login_failure(tx, key, window_seconds=policy.window_seconds)
    # The failure is committed: it counts although the caller gets an error.
    raise IncorrectCredentialsError
