"""Password login with a per-email lockout kept in Postgres.

The password is hashed before any connection is held: hashing is the slow
part, and a request holding a pooled connection through it starves the
others. The verdict is then given under a transaction-scoped advisory lock
per email, so concurrent guesses (on any replica) cannot slip past the
limit: each counts the failures committed before it. Unknown emails are
treated exactly like known ones: same hashing cost, same lockout.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from flotilla.db import Database, Transaction
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


@asynccontextmanager
async def authenticated(
    db: Database,
    hasher: PasswordHasher,
    policy: LockoutPolicy,
    *,
    email: str,
    password: str,
) -> AsyncIterator[tuple[Transaction, UserRecord]]:
    """The user, and the transaction that checked the password, for more work to join it.

    Raises instead of entering the block when the email is locked out or the
    password is wrong; the failure is committed first, so it counts.
    """
    key = email_key(email)
    limits = {"max_failures": policy.max_failures, "window_seconds": policy.window_seconds}
    # Locked out already: refused without spending a hash on it.
    if seconds_left := await repository.lockout_seconds_left(db, key, **limits):
        raise LockedOutError(seconds_left)
    user = await repository.get_user_by_email(db, email)
    valid, new_hash = await hasher.verify(password, user.hashed_password if user else None)

    async with db.transaction() as tx:
        await repository.lock_email(tx, key)
        if seconds_left := await repository.lockout_seconds_left(tx, key, **limits):
            raise LockedOutError(seconds_left)  # rolls back: nothing to keep
        # The hash checked is still the user's: a password change holds this lock too.
        current = await repository.get_user_by_email(tx, email) if valid else None
        if (
            user is not None
            and current is not None
            and current.hashed_password == user.hashed_password
            and current.is_active
        ):
            if new_hash is not None:
                await repository.set_password_hash(tx, user.id, new_hash)
            await repository.clear_login_failures(tx, key)
            yield tx, user
            return
        await repository.record_login_failure(tx, key, window_seconds=policy.window_seconds)
    raise IncorrectCredentialsError
