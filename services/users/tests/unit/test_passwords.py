import os
import sys
import threading

import pytest

from users.passwords import PasswordHasher

CHEAP = {"memory_kib": 1024, "time_cost": 1, "parallelism": 1}


async def test_a_hash_verifies_its_password_only() -> None:
    hasher = PasswordHasher(threads=1, **CHEAP)
    hashed = await hasher.hash("correct horse")

    assert await hasher.verify("correct horse", hashed) == (True, None)
    assert (await hasher.verify("wrong horse", hashed))[0] is False


async def test_no_hash_never_verifies_but_costs_a_real_check() -> None:
    hasher = PasswordHasher(threads=1, **CHEAP)

    assert (await hasher.verify("flotilla-dummy-password", None))[0] is False


async def test_a_hash_with_other_parameters_comes_back_upgraded() -> None:
    old = await PasswordHasher(threads=1, **CHEAP).hash("correct horse")
    stronger = PasswordHasher(threads=1, memory_kib=2048, time_cost=2, parallelism=1)

    valid, new_hash = await stronger.verify("correct horse", old)

    assert valid
    assert new_hash is not None
    assert "m=2048,t=2,p=1" in new_hash


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
async def test_hashing_threads_run_at_a_lower_cpu_priority_than_the_event_loop() -> None:
    hasher = PasswordHasher(threads=1, niceness=5, **CHEAP)

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    try:
        in_hashing_thread = await hasher._run(niceness)
    finally:
        hasher.close()

    assert in_hashing_thread == min(19, niceness() + 5)
