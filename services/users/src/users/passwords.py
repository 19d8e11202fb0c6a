"""Argon2 password hashing, off the event loop, in a few low-priority threads.

A burst of logins queues for the hashing threads instead of taking every core
from the event loop, so other requests keep flowing. On Linux the hashing
threads (and the lanes Argon2 starts from them) also run at a lower CPU
priority, so whenever the event loop has a request to serve it gets a core
first: ``/healthz`` keeps its latency while logins hash (``nox -s bench``).
"""

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

T = TypeVar("T")


def _lower_this_threads_priority(niceness: int) -> None:
    """Linux keeps a nice value per thread; threads started from this one inherit it."""
    if sys.platform != "linux" or niceness <= 0:
        return
    thread = threading.get_native_id()
    with contextlib.suppress(OSError):  # e.g. a sandbox that forbids it: hash at normal priority
        current = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, current + niceness))


class PasswordHasher:
    def __init__(
        self,
        *,
        threads: int,
        memory_kib: int,
        time_cost: int,
        parallelism: int,
        niceness: int = 0,
    ) -> None:
        argon2 = Argon2Hasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=parallelism)
        self._hash = PasswordHash((argon2,))
        # Its threads start on first use and end when the hasher is gone.
        self._threads = ThreadPoolExecutor(
            max_workers=threads,
            thread_name_prefix="password-hashing",
            initializer=_lower_this_threads_priority,
            initargs=(niceness,),
        )
        # Verifying unknown emails against this costs what a real check costs,
        # so response time does not tell whether an email is registered.
        self._dummy_hash = self._hash.hash("flotilla-dummy-password")

    async def _run(self, function: Callable[..., T], *args: str) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, function, *args)

    async def hash(self, password: str) -> str:
        return await self._run(self._hash.hash, password)

    async def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """``(valid, new_hash)``; ``new_hash`` is set when the parameters changed since hashing."""
        target = hashed if hashed is not None else self._dummy_hash
        valid, new_hash = await self._run(self._hash.verify_and_update, password, target)
        return (valid and hashed is not None), new_hash

    def close(self) -> None:
        """Let the hashing threads end (a hash still running completes)."""
        self._threads.shutdown(wait=False)
