"""Fixtures of the users service tests: cheap password hashing and a fixed signing key."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from flotilla.settings import Environment
from flotilla.testing.pytest_plugin import AppFactory, database_on_session, use_database
from flotilla.testing.settings import settings_for_test
from users.main import create_app
from users.models import users
from users.settings import UsersSettings

PASSWORD = "correct horse battery"
#: Argon2 at its cheapest, so hundreds of registrations stay fast in tests.
CHEAP_HASHING: dict[str, Any] = {
    "password_hash_memory_kib": 1024,
    "password_hash_time_cost": 1,
    "password_hash_parallelism": 1,
}


def private_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="session")
def signing_key_pem() -> str:
    return private_pem(Ed25519PrivateKey.generate())


@pytest.fixture
def settings(database_url: str, signing_key_pem: str, tmp_path: Path) -> UsersSettings:
    return settings_for_test(
        UsersSettings,
        environment=Environment.TEST,
        database_url=database_url,
        signing_key=signing_key_pem,
        data_dir=tmp_path,
        **CHEAP_HASHING,
    )


@pytest.fixture
def service_app_factory() -> AppFactory:
    return create_app


@asynccontextmanager
async def client_for(
    settings: UsersSettings, db_session: AsyncSession
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on another app instance (other settings) sharing the test's rolled-back session."""
    other_app = create_app(settings)
    use_database(other_app, await database_on_session(db_session))
    transport = httpx.ASGITransport(app=other_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def register(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, **extra: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/register", json={"email": email, "password": password, **extra}
    )


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/token", data={"username": email, "password": password})


async def token_for(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Register (if needed) and log in; returns the access token."""
    token: str = (await session_for(client, email, password))["access_token"]
    return token


async def session_for(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> dict[str, Any]:
    """Register (if needed) and log in; returns the whole token response."""
    await register(client, email, password)
    response = await login(client, email, password)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


async def user_row(db_session: AsyncSession, user_id: int) -> Row[Any] | None:
    """The user's row as stored, read past the API."""
    result = await db_session.execute(select(users).where(users.c.id == user_id))
    return result.one_or_none()
