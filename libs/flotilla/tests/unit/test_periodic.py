import asyncio

import pytest

from flotilla.periodic import running_every


class Job:
    """Counts its runs, fails those in ``failing``, sets ``done`` after ``until`` runs."""

    def __init__(self, until: int, failing: frozenset[int] = frozenset()) -> None:
        self.runs = 0
        self.until = until
        self.failing = failing
        self.done = asyncio.Event()

    async def __call__(self) -> None:
        self.runs += 1
        if self.runs >= self.until:
            self.done.set()
        if self.runs in self.failing:
            raise ConnectionError("database down")


async def test_the_job_runs_again_and_again_while_the_block_runs() -> None:
    job = Job(until=3)

    async with running_every(0.01, job, name="count"):
        await asyncio.wait_for(job.done.wait(), timeout=10)

    assert job.runs >= 3


async def test_a_failing_run_is_logged_and_the_next_one_still_happens(
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = Job(until=2, failing=frozenset({1}))

    async with running_every(0.01, job, name="flaky"):
        await asyncio.wait_for(job.done.wait(), timeout=10)

    assert job.runs >= 2
    assert "periodic job flaky failed" in caplog.text


async def test_nothing_runs_after_the_block_ends() -> None:
    job = Job(until=1)

    async with running_every(0.01, job, name="stopped"):
        await asyncio.wait_for(job.done.wait(), timeout=10)
    runs_when_it_ended = job.runs
    await asyncio.sleep(0.05)

    assert job.runs == runs_when_it_ended
