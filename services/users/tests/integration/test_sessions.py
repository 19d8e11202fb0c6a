"""Refresh-token rotation, reuse detection and logout."""

import hashlib
import logging
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flotilla.testing.tokens import bearer
from users.models import refresh_families, refresh_tokens, users

from ..conftest import PASSWORD, login, refresh, register, session_for

INVALID = {"detail": "Invalid refresh token"}


def stored_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def token_row(db_session: AsyncSession, token: str) -> Any:
    result = await db_session.execute(
        select(refresh_tokens).where(refresh_tokens.c.token_hash == stored_hash(token))
    )
    return result.one_or_none()


async def families(db_session: AsyncSession) -> list[Any]:
    return list((await db_session.execute(select(refresh_families))).all())


async def logout(client: httpx.AsyncClient, refresh_token: object) -> httpx.Response:
    return await client.post("/api/v1/auth/logout", json={"refresh_token": refresh_token})


async def test_login_starts_a_family_storing_only_the_hash_of_its_token(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    body = await session_for(client, "ada@example.com")

    [family] = await families(db_session)
    row = await token_row(db_session, body["refresh_token"])
    assert row is not None
    assert row.family_id == family.id
    assert row.spent_at is None
    assert family.revoked_at is None
    stored = (await db_session.execute(select(refresh_tokens.c.token_hash))).scalars().all()
    assert body["refresh_token"].encode() not in stored


async def test_a_refresh_answers_a_new_pair_and_spends_the_token(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    first = await session_for(client, "ada@example.com")

    response = await refresh(client, first["refresh_token"])

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "refresh_expires_in",
    }
    assert body["token_type"] == "bearer"
    assert (body["expires_in"], body["refresh_expires_in"]) == (15 * 60, 14 * 24 * 60 * 60)
    assert body["refresh_token"] != first["refresh_token"]
    me = await client.get("/api/v1/users/me", headers=bearer(body["access_token"]))
    assert me.json()["email"] == "ada@example.com"
    spent = await token_row(db_session, first["refresh_token"])
    fresh = await token_row(db_session, body["refresh_token"])
    assert spent.spent_at is not None
    assert fresh.spent_at is None
    assert fresh.family_id == spent.family_id


async def test_the_new_access_token_carries_the_users_roles(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    first = await session_for(client, "root@example.com")
    await db_session.execute(update(users).values(is_admin=True))

    body = (await refresh(client, first["refresh_token"])).json()

    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["roles"] == ["admin"]


async def test_each_token_of_the_chain_refreshes_once(client: httpx.AsyncClient) -> None:
    token = (await session_for(client, "ada@example.com"))["refresh_token"]

    for _ in range(3):
        response = await refresh(client, token)
        assert response.status_code == 200
        token = response.json()["refresh_token"]


async def test_reusing_a_spent_token_is_401_and_revokes_the_whole_family(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    first = (await session_for(client, "ada@example.com"))["refresh_token"]
    second = (await refresh(client, first)).json()["refresh_token"]
    third = (await refresh(client, second)).json()["refresh_token"]

    reuse = await refresh(client, first)

    assert reuse.status_code == 401
    assert reuse.json() == INVALID
    assert (await refresh(client, third)).status_code == 401
    [family] = await families(db_session)
    assert family.revoked_at is not None


async def test_reuse_revokes_only_that_login(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    stolen = (await session_for(client, "ada@example.com"))["refresh_token"]
    other_device = (await login(client, "ada@example.com")).json()["refresh_token"]
    await refresh(client, stolen)

    await refresh(client, stolen)

    assert (await refresh(client, other_device)).status_code == 200


async def test_reuse_is_logged_with_user_and_family_but_never_the_token(
    client: httpx.AsyncClient, db_session: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    body = await session_for(client, "ada@example.com")
    await refresh(client, body["refresh_token"])

    with caplog.at_level(logging.WARNING, logger="users.sessions"):
        await refresh(client, body["refresh_token"])

    [family] = await families(db_session)
    [record] = [r for r in caplog.records if r.name == "users.sessions"]
    assert record.__dict__["event"] == "refresh_token_reuse"
    assert record.__dict__["user_id"] == family.user_id
    assert record.__dict__["family_id"] == str(family.id)
    assert body["refresh_token"] not in caplog.text


@pytest.mark.parametrize(
    "presented", ["", "not a token", "A" * 43, "x" * 5000, "a.b.c", "\u00e9" * 43]
)
async def test_an_unknown_or_malformed_token_is_401(
    client: httpx.AsyncClient, presented: str
) -> None:
    response = await refresh(client, presented)

    assert response.status_code == 401
    assert response.json() == INVALID
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_token_of_lone_surrogates_is_401(client: httpx.AsyncClient) -> None:
    body = '{"refresh_token": "' + "\\ud800" * 43 + '"}'

    response = await client.post(
        "/api/v1/auth/refresh", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 401
    assert response.json() == INVALID


@pytest.mark.parametrize(
    "body", [{}, {"refresh_token": 5}, {"refresh_token": None}, {"refresh_token": "x", "a": 1}]
)
async def test_a_malformed_body_is_422(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    assert (await client.post("/api/v1/auth/refresh", json=body)).status_code == 422
    assert (await client.post("/api/v1/auth/logout", json=body)).status_code == 422


async def test_an_expired_token_is_401_without_revoking_the_family(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    token = (await session_for(client, "ada@example.com"))["refresh_token"]
    await db_session.execute(update(refresh_tokens).values(expires_at=refresh_tokens.c.created_at))

    response = await refresh(client, token)

    assert response.status_code == 401
    assert response.json() == INVALID
    [family] = await families(db_session)
    assert family.revoked_at is None


async def test_a_deactivated_users_token_stops_refreshing(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    token = (await session_for(client, "ada@example.com"))["refresh_token"]
    await db_session.execute(update(users).values(is_active=False))

    response = await refresh(client, token)

    assert response.status_code == 401
    assert response.json() == INVALID


async def test_logout_is_204_and_revokes_the_family(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    first = (await session_for(client, "ada@example.com"))["refresh_token"]
    second = (await refresh(client, first)).json()["refresh_token"]

    response = await logout(client, first)

    assert response.status_code == 204
    assert response.content == b""
    assert (await refresh(client, second)).status_code == 401
    [family] = await families(db_session)
    assert family.revoked_at is not None


async def test_logout_leaves_other_logins_alone(client: httpx.AsyncClient) -> None:
    phone = (await session_for(client, "ada@example.com"))["refresh_token"]
    laptop = (await login(client, "ada@example.com")).json()["refresh_token"]

    await logout(client, phone)

    assert (await refresh(client, laptop)).status_code == 200


@pytest.mark.parametrize("presented", ["A" * 43, "not a token", ""])
async def test_logout_answers_the_same_for_an_unknown_token(
    client: httpx.AsyncClient, presented: str
) -> None:
    response = await logout(client, presented)

    assert response.status_code == 204
    assert response.content == b""


async def test_logging_out_twice_answers_the_same(client: httpx.AsyncClient) -> None:
    token = (await session_for(client, "ada@example.com"))["refresh_token"]

    first, second = await logout(client, token), await logout(client, token)

    assert (first.status_code, second.status_code) == (204, 204)


async def test_an_access_token_stays_valid_after_logout_until_it_expires(
    client: httpx.AsyncClient,
) -> None:
    body = await session_for(client, "ada@example.com")

    await logout(client, body["refresh_token"])

    me = await client.get("/api/v1/users/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200


async def test_registering_starts_no_session(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    await register(client, "ada@example.com", PASSWORD)

    assert await families(db_session) == []
