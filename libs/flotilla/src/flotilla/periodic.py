"""Background jobs on a timer inside a service, for as long as the app runs."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def running_every(
    seconds: float, job: Callable[[], Awaitable[object]], *, name: str
) -> AsyncIterator[None]:
    """Run ``job`` every ``seconds`` while the block runs (first after one interval).

    A run that fails is logged and the next one still happens, so a database
    outage pauses the job rather than ending it. Leaving the block cancels it.
    Every replica runs its own timer: make the job safe to run concurrently.
    """

    async def loop() -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:
                logger.exception("periodic job %s failed", name)

    task = asyncio.create_task(loop(), name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
