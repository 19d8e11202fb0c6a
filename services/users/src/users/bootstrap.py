"""Start-up work: make sure the first admin exists when one is configured."""

import logging

from sqlalchemy import func, select

from flotilla.db import Database
from users import repository
from users.passwords import PasswordHasher
from users.settings import UsersSettings

logger = logging.getLogger(__name__)

#: Advisory-lock key that serializes admin seeding across replicas starting at once.
_SEED_LOCK = 0x466C6F74696C6C61


async def ensure_first_admin(
    settings: UsersSettings, database: Database, hasher: PasswordHasher
) -> None:
    if settings.first_admin_email is None or settings.first_admin_password is None:
        return
    hashed = await hasher.hash(settings.first_admin_password.get_secret_value())
    async with database.transaction() as tx:
        await tx.execute(select(func.pg_advisory_xact_lock(_SEED_LOCK)))
        await repository.ensure_admin(tx, email=settings.first_admin_email, hashed_password=hashed)
    logger.info("first admin ensured")
