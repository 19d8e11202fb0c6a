"""The users service app: ``uvicorn --factory users.main:create_app``."""

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from flotilla.app import create_service_app
from flotilla.auth import StaticKeySet, TokenVerifier
from flotilla.db import Database
from flotilla.periodic import running_every
from flotilla.settings import load_settings
from users import __version__
from users.api import auth, users
from users.bootstrap import ensure_first_admin
from users.housekeeping import delete_expired_sessions
from users.keys import load_signing_keys
from users.login import LockoutPolicy
from users.passwords import PasswordHasher
from users.sessions import SessionPolicy
from users.settings import UsersSettings
from users.tokens import TokenIssuer


def create_app(settings: UsersSettings | None = None) -> FastAPI:
    settings = settings or load_settings(UsersSettings)
    database = Database(settings)
    keys = load_signing_keys(settings)
    hasher = PasswordHasher(
        threads=settings.password_hash_threads,
        niceness=settings.password_hash_niceness,
        memory_kib=settings.password_hash_memory_kib,
        time_cost=settings.password_hash_time_cost,
        parallelism=settings.password_hash_parallelism,
    )

    cleanup = functools.partial(
        delete_expired_sessions, database, batch_size=settings.session_cleanup_batch_size
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await ensure_first_admin(settings, database, hasher)
            async with running_every(
                settings.session_cleanup_interval_seconds, cleanup, name="session-cleanup"
            ):
                yield
        finally:
            hasher.close()

    app = create_service_app(
        name="users",
        version=__version__,
        description="Users and authentication: registration, login, JWT issuing, JWKS.",
        settings=settings,
        routers=[auth.router, users.router],
        database=database,
        # Users verifies tokens with its own public keys: no HTTP call to itself.
        token_verifier=TokenVerifier(
            StaticKeySet(keys.jwks()),
            issuer=settings.token_issuer,
            audience=settings.token_audience,
        ),
        lifespan=lifespan,
    )
    app.state.password_hasher = hasher
    app.state.token_issuer = TokenIssuer(keys, settings)
    app.state.session_policy = SessionPolicy(refresh_token_days=settings.refresh_token_days)
    app.state.lockout_policy = LockoutPolicy(
        max_failures=settings.login_max_failures, window_seconds=settings.login_window_seconds
    )
    return app
