import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from users.models import login_failures, users
from users.settings import UsersSettings

from ..conftest import PASSWORD, client_for, login, register

WRONG = "wrong password!"


async def test_the_right_password_gets_a_bearer_token(client: httpx.AsyncClient) -> None:
    user_id = (await register(client, "ada@example.com")).json()["id"]

    response = await login(client, "ada@example.com")

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["refresh_expires_in"] == 14 * 24 * 60 * 60
    header = jwt.get_unverified_header(body["access_token"])
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert header["alg"] == "EdDSA"
    assert header["kid"]
    assert claims["sub"] == str(user_id)
    assert claims["iss"] == "flotilla-users"
    assert claims["aud"] == "flotilla"
    assert claims["roles"] == []
    assert claims["exp"] - claims["iat"] == 15 * 60


async def test_an_admin_token_carries_the_admin_role(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    await register(client, "root@example.com")
    await db_session.execute(update(users).values(is_admin=True))

    token = (await login(client, "root@example.com")).json()["access_token"]

    assert jwt.decode(token, options={"verify_signature": False})["roles"] == ["admin"]


async def test_the_email_is_matched_case_insensitively(client: httpx.AsyncClient) -> None:
    await register(client, "Ada@Example.com")

    assert (await login(client, "ada@EXAMPLE.com")).status_code == 200


@pytest.mark.parametrize(
    ("registered", "typed"),
    [
        ("İstanbul-ada@example.com", "İstanbul-ada@example.com"),
        ("İstanbul-ada@example.com", "i̇STANBUL-ADA@example.com"),
        ("ΣΊΣΥΦΟΣ@example.com", "σίσυφος@example.com"),
        ("straße@example.com", "STRASSE@example.com"),
    ],
    ids=["turkish-as-registered", "turkish-other-case", "greek-final-sigma", "german-sharp-s"],
)
async def test_a_non_ascii_email_logs_in_with_any_variant_of_its_identity(
    client: httpx.AsyncClient, registered: str, typed: str
) -> None:
    assert (await register(client, registered)).status_code == 201

    assert (await login(client, typed)).status_code == 200


async def test_the_lockout_counts_failures_per_email_identity(client: httpx.AsyncClient) -> None:
    await register(client, "straße@example.com")
    for variant in ["STRASSE@example.com", "strasse@example.com", "Straße@example.com"] * 2:
        await login(client, variant, WRONG)

    response = await login(client, "straße@example.com")

    assert response.status_code == 429


async def test_a_wrong_password_is_401(client: httpx.AsyncClient) -> None:
    await register(client, "ada@example.com")

    response = await login(client, "ada@example.com", WRONG)

    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect email or password"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_an_unknown_email_gets_the_same_401(client: httpx.AsyncClient) -> None:
    response = await login(client, "ghost@example.com")

    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect email or password"}


async def test_a_json_body_is_422_naming_the_form_fields(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/token", json={"username": "a@x.io", "password": PASSWORD}
    )

    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["detail"]} == {
        ("body", "username"),
        ("body", "password"),
    }


async def test_an_over_long_username_is_422(client: httpx.AsyncClient) -> None:
    response = await login(client, "x" * 400)

    assert response.status_code == 422


async def test_five_failures_lock_the_email_even_for_the_right_password(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "ada@example.com")
    failures = [await login(client, "ada@example.com", WRONG) for _ in range(5)]

    response = await login(client, "ada@example.com")

    assert [r.status_code for r in failures] == [401] * 5
    assert response.status_code == 429
    assert response.json() == {"detail": "Too many failed login attempts"}
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60


async def test_an_unknown_email_is_locked_out_like_a_known_one(client: httpx.AsyncClient) -> None:
    for _ in range(5):
        await login(client, "ghost@example.com", WRONG)

    response = await login(client, "ghost@example.com", WRONG)

    assert response.status_code == 429


async def test_failures_older_than_the_window_do_not_count(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    await register(client, "ada@example.com")
    long_ago = datetime.now(UTC) - timedelta(minutes=16)
    await db_session.execute(
        insert(login_failures), [{"email_key": "ada@example.com", "failed_at": long_ago}] * 5
    )

    assert (await login(client, "ada@example.com")).status_code == 200


async def test_retry_after_counts_down_to_when_the_window_passes(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    fourteen_minutes_ago = datetime.now(UTC) - timedelta(minutes=14)
    await db_session.execute(
        insert(login_failures),
        [{"email_key": "ada@example.com", "failed_at": fourteen_minutes_ago}] * 5,
    )

    response = await login(client, "ada@example.com")

    assert response.status_code == 429
    assert 55 <= int(response.headers["Retry-After"]) <= 61


async def test_a_successful_login_clears_earlier_failures(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    await register(client, "ada@example.com")
    for _ in range(4):
        await login(client, "ada@example.com", WRONG)

    await login(client, "ada@example.com")

    remaining = await db_session.execute(select(login_failures))
    assert remaining.all() == []


async def test_the_lockout_holds_under_concurrent_guesses(
    committing_client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    await register(committing_client, "ada@example.com")

    responses = await asyncio.gather(
        *(login(committing_client, "ada@example.com", WRONG) for _ in range(12))
    )

    assert sorted(r.status_code for r in responses) == [401] * 5 + [429] * 7
    failures = (await db_session.execute(select(login_failures))).all()
    assert len(failures) == 5


async def test_a_hash_with_old_parameters_is_upgraded_at_login(
    client: httpx.AsyncClient, db_session: AsyncSession, settings: UsersSettings
) -> None:
    await register(client, "ada@example.com")
    stronger = settings.model_copy(update={"password_hash_time_cost": 2})

    async with client_for(stronger, db_session) as upgraded:
        response = await login(upgraded, "ada@example.com")

    assert response.status_code == 200
    row = (await db_session.execute(select(users))).one()
    assert ",t=2," in row.hashed_password
