"""Changing the password needs the current one, counts failures and ends every session."""

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from flotilla.testing.tokens import bearer
from users.models import login_failures, refresh_families

from ..conftest import PASSWORD, login, refresh, session_for, user_row

NEW_PASSWORD = "a brand new secret"
WRONG = "not my password"


async def change_password(
    client: httpx.AsyncClient, access_token: str, **body: Any
) -> httpx.Response:
    return await client.patch("/api/v1/users/me", json=body, headers=bearer(access_token))


async def test_the_right_current_password_changes_it(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    session = await session_for(client, "ada@example.com")

    response = await change_password(
        client, session["access_token"], password=NEW_PASSWORD, current_password=PASSWORD
    )

    assert response.status_code == 200
    assert response.json()["email"] == "ada@example.com"
    assert (await login(client, "ada@example.com", NEW_PASSWORD)).status_code == 200
    assert (await login(client, "ada@example.com", PASSWORD)).status_code == 401


async def test_a_change_revokes_every_session_of_the_user(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    phone = await session_for(client, "ada@example.com")
    laptop = (await login(client, "ada@example.com")).json()

    await change_password(
        client, phone["access_token"], password=NEW_PASSWORD, current_password=PASSWORD
    )

    assert (await refresh(client, phone["refresh_token"])).status_code == 401
    assert (await refresh(client, laptop["refresh_token"])).status_code == 401
    revoked = (await db_session.execute(select(refresh_families.c.revoked_at))).scalars().all()
    assert len(revoked) == 2
    assert None not in revoked


async def test_a_change_leaves_other_users_sessions_alone(client: httpx.AsyncClient) -> None:
    ada = await session_for(client, "ada@example.com")
    bob = await session_for(client, "bob@example.com")

    await change_password(
        client, ada["access_token"], password=NEW_PASSWORD, current_password=PASSWORD
    )

    assert (await refresh(client, bob["refresh_token"])).status_code == 200


async def test_access_tokens_stay_valid_after_a_change_until_they_expire(
    client: httpx.AsyncClient,
) -> None:
    session = await session_for(client, "ada@example.com")

    await change_password(
        client, session["access_token"], password=NEW_PASSWORD, current_password=PASSWORD
    )

    me = await client.get("/api/v1/users/me", headers=bearer(session["access_token"]))
    assert me.status_code == 200


async def test_a_new_password_without_the_current_one_is_422(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    session = await session_for(client, "ada@example.com")

    response = await change_password(client, session["access_token"], password=NEW_PASSWORD)

    assert response.status_code == 422
    assert (await login(client, "ada@example.com")).status_code == 200


async def test_a_wrong_current_password_is_403_and_changes_nothing(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    session = await session_for(client, "ada@example.com")
    user_id = (
        await client.get("/api/v1/users/me", headers=bearer(session["access_token"]))
    ).json()["id"]
    before = await user_row(db_session, user_id)

    response = await change_password(
        client, session["access_token"], password=NEW_PASSWORD, current_password=WRONG
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "Current password is incorrect"}
    after = await user_row(db_session, user_id)
    assert before is not None
    assert after is not None
    assert after.hashed_password == before.hashed_password
    assert (await refresh(client, session["refresh_token"])).status_code == 200


async def test_a_wrong_current_password_counts_as_a_failed_login(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    session = await session_for(client, "ada@example.com")

    await change_password(
        client, session["access_token"], password=NEW_PASSWORD, current_password=WRONG
    )

    failures = (await db_session.execute(select(login_failures.c.email_key))).scalars().all()
    assert failures == ["ada@example.com"]


async def test_five_wrong_current_passwords_lock_login_and_password_change(
    client: httpx.AsyncClient,
) -> None:
    session = await session_for(client, "ada@example.com")
    attempts = [
        await change_password(
            client, session["access_token"], password=NEW_PASSWORD, current_password=WRONG
        )
        for _ in range(5)
    ]

    locked_change = await change_password(
        client, session["access_token"], password=NEW_PASSWORD, current_password=PASSWORD
    )
    locked_login = await login(client, "ada@example.com")

    assert [a.status_code for a in attempts] == [403] * 5
    assert locked_change.status_code == 429
    assert locked_change.json() == {"detail": "Too many failed login attempts"}
    assert 0 < int(locked_change.headers["Retry-After"]) <= 15 * 60
    assert locked_login.status_code == 429


async def test_failed_logins_lock_the_password_change_too(client: httpx.AsyncClient) -> None:
    session = await session_for(client, "ada@example.com")
    for _ in range(5):
        await login(client, "ada@example.com", WRONG)

    response = await change_password(
        client, session["access_token"], password=NEW_PASSWORD, current_password=PASSWORD
    )

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


async def test_changing_only_the_name_needs_no_password_and_keeps_sessions(
    client: httpx.AsyncClient,
) -> None:
    session = await session_for(client, "ada@example.com")

    response = await change_password(client, session["access_token"], full_name="Countess")

    assert response.status_code == 200
    assert (await refresh(client, session["refresh_token"])).status_code == 200


async def test_no_login_with_the_old_password_outlives_a_concurrent_change(
    committing_client: httpx.AsyncClient, database_engine: AsyncEngine
) -> None:
    session = await session_for(committing_client, "ada@example.com")
    async with database_engine.connect() as holder:
        # Hold the email's login lock, so the requests queue for it in a known order.
        await holder.execute(select(func.pg_advisory_lock(EMAIL_LOCK)))
        logins = [
            asyncio.create_task(login(committing_client, "ada@example.com")) for _ in range(3)
        ]
        await waiting_for_locks(holder, 3)
        change = asyncio.create_task(
            change_password(
                committing_client,
                session["access_token"],
                password=NEW_PASSWORD,
                current_password=PASSWORD,
            )
        )
        await waiting_for_locks(holder, 4)
        await holder.execute(select(func.pg_advisory_unlock(EMAIL_LOCK)))
        await holder.commit()
        changed, *answers = await asyncio.gather(change, *logins)

    assert changed.status_code == 200
    assert [a.status_code for a in answers] == [200] * 3  # they logged in with the old password
    for answer in answers:
        assert (await refresh(committing_client, answer.json()["refresh_token"])).status_code == 401


EMAIL_LOCK = func.hashtextextended("ada@example.com", 0)


async def waiting_for_locks(connection: AsyncConnection, count: int) -> None:
    """Until ``count`` statements of this database wait for a lock (10 s at most)."""
    for _ in range(200):
        waiting = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        await connection.commit()  # a fresh snapshot of pg_stat_activity next time
        if waiting == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} statements never waited for a lock")
