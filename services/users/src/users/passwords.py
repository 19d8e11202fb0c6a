"""Argon2 password hashing, off the event loop and with a bounded number of threads.

A burst of logins queues for the hashing threads instead of taking every core
from the event loop, so other requests keep flowing.
"""

from anyio import CapacityLimiter, to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher


class PasswordHasher:
    def __init__(self, *, threads: int, memory_kib: int, time_cost: int, parallelism: int) -> None:
        argon2 = Argon2Hasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=parallelism)
        self._hash = PasswordHash((argon2,))
        self._limiter = CapacityLimiter(threads)
        # Verifying unknown emails against this costs what a real check costs,
        # so response time does not tell whether an email is registered.
        self._dummy_hash = self._hash.hash("flotilla-dummy-password")

    async def hash(self, password: str) -> str:
        return await to_thread.run_sync(self._hash.hash, password, limiter=self._limiter)

    async def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """``(valid, new_hash)``; ``new_hash`` is set when the parameters changed since hashing."""
        target = hashed if hashed is not None else self._dummy_hash
        valid, new_hash = await to_thread.run_sync(
            self._hash.verify_and_update, password, target, limiter=self._limiter
        )
        return (valid and hashed is not None), new_hash
