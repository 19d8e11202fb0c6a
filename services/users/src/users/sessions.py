"""Sessions: a login starts a family of refresh tokens, each used exactly once.

Refreshing spends the presented token and adds the next one to its family.
Presenting a spent token is reuse: someone else holds a copy, so the whole
family is revoked (strict, as the OAuth 2.0 Security BCP recommends; the
losers of two concurrent refreshes count too). Every decision is made by
the database, so it holds across replicas.
"""

import logging
import uuid
from dataclasses import dataclass

from flotilla.db import Database, Queries, Transaction
from users import session_store
from users.refresh_tokens import new_refresh_token, refresh_token_hash
from users.repository import UserRecord

logger = logging.getLogger(__name__)


class InvalidRefreshTokenError(Exception):
    """Unknown, expired, spent, revoked or malformed, or its user is no longer active."""


@dataclass(frozen=True)
class SessionPolicy:
    refresh_token_days: int


@dataclass(frozen=True)
class Session:
    user: UserRecord
    refresh_token: str


async def start(tx: Transaction, policy: SessionPolicy, user: UserRecord) -> Session:
    """A new family for a login, holding its first refresh token (in the login's transaction)."""
    family_id = await session_store.create_family(
        tx, user_id=user.id, days=policy.refresh_token_days
    )
    return Session(user, await _add_token(tx, policy, family_id))


async def refresh(db: Database, policy: SessionPolicy, presented: str) -> Session:
    """Spend ``presented`` and return the next token of its family."""
    token_hash = refresh_token_hash(presented)
    if token_hash is None:
        raise InvalidRefreshTokenError
    async with db.transaction() as tx:
        family_id = await session_store.spend(tx, token_hash)
        if family_id is not None:
            return await _next_in_family(tx, policy, family_id)
        reused = await session_store.spent_token_owner(tx, token_hash)
        if reused is None:
            raise InvalidRefreshTokenError
        await session_store.revoke_family(tx, reused.family_id)
    # Committed: the family stays revoked although the caller gets an error.
    logger.warning(
        "refresh token reused: its family is revoked",
        extra={
            "event": "refresh_token_reuse",
            "user_id": reused.user_id,
            "family_id": str(reused.family_id),
        },
    )
    raise InvalidRefreshTokenError


async def _next_in_family(tx: Queries, policy: SessionPolicy, family_id: uuid.UUID) -> Session:
    user = await session_store.extend_live_family(tx, family_id, days=policy.refresh_token_days)
    if user is None:  # the family is revoked, or the user gone or deactivated
        raise InvalidRefreshTokenError  # rolls back: the presented token stays as it was
    return Session(user, await _add_token(tx, policy, family_id))


async def _add_token(tx: Queries, policy: SessionPolicy, family_id: uuid.UUID) -> str:
    token, token_hash = new_refresh_token()
    await session_store.add_token(
        tx, token_hash=token_hash, family_id=family_id, days=policy.refresh_token_days
    )
    return token


async def end(db: Database, presented: str) -> None:
    """Log out: revoke the family of ``presented``, if there is one."""
    token_hash = refresh_token_hash(presented)
    if token_hash is None:
        return
    ended = await session_store.revoke_family_of(db, token_hash)
    if ended is not None:
        logger.info(
            "logged out",
            extra={"user_id": ended.user_id, "family_id": str(ended.family_id)},
        )


async def revoke_all(db: Queries, user_id: int) -> int:
    """Revoke every family of the user (e.g. their password changed); how many were live."""
    return await session_store.revoke_user_families(db, user_id)
