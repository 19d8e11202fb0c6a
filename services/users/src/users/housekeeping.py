"""Deleting expired and revoked sessions, in bounded batches, by one replica at a time."""

import logging

from sqlalchemy import func, select

from flotilla.db import Database
from users import session_store

logger = logging.getLogger(__name__)

#: Advisory-lock key: while one replica deletes a batch, the others skip it.
_CLEANUP_LOCK = 0x466C6F7473657373


async def delete_expired_sessions(database: Database, *, batch_size: int) -> int:
    """Delete expired rows batch by batch until none is left; how many were deleted.

    Each batch is a short transaction of at most ``batch_size`` rows per table,
    so locks stay brief. A replica that finds another one deleting stops.
    """
    deleted = 0
    while True:
        async with database.transaction() as tx:
            if not await tx.fetch_value(select(func.pg_try_advisory_xact_lock(_CLEANUP_LOCK))):
                break
            families = await session_store.delete_expired_families(tx, limit=batch_size)
            tokens = await session_store.delete_expired_tokens(tx, limit=batch_size)
        deleted += families + tokens
        if families < batch_size and tokens < batch_size:
            break
    if deleted:
        logger.info("deleted expired sessions", extra={"rows": deleted})
    return deleted
