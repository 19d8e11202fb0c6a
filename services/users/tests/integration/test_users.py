from collections.abc import Callable

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from flotilla.testing.tokens import bearer
from users.models import users

from ..conftest import PASSWORD, login, register, token_for, user_row


async def make_admin(db_session: AsyncSession, email: str) -> None:
    await db_session.execute(update(users).where(users.c.email == email).values(is_admin=True))


async def test_me_returns_the_caller(client: httpx.AsyncClient) -> None:
    token = await token_for(client, "ada@example.com")

    response = await client.get("/api/v1/users/me", headers=bearer(token))

    assert response.status_code == 200
    assert response.json()["email"] == "ada@example.com"


async def test_me_without_a_token_is_401_not_authenticated(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/users/me")

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "subject_of",
    [lambda sub: "9" * 5000, lambda sub: str(2**63), lambda sub: f"000{sub}"],
    ids=["5000-digits", "beyond-bigint", "leading-zeros"],
)
async def test_a_signed_token_whose_sub_is_no_canonical_user_id_is_401(
    client: httpx.AsyncClient, signing_key_pem: str, subject_of: Callable[[str], str]
) -> None:
    issued = await token_for(client, "ada@example.com")
    header = jwt.get_unverified_header(issued)
    claims = jwt.decode(issued, options={"verify_signature": False})
    key = serialization.load_pem_private_key(signing_key_pem.encode(), password=None)
    forged = jwt.encode(
        {**claims, "sub": subject_of(claims["sub"])},
        key,  # type: ignore[arg-type]
        algorithm=header["alg"],
        headers={"kid": header["kid"]},
    )

    response = await client.get("/api/v1/users/me", headers=bearer(forged))

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid authentication credentials"}


async def test_a_token_of_a_deleted_user_is_401(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    token = await token_for(client, "ada@example.com")
    await db_session.execute(delete(users))

    response = await client.get("/api/v1/users/me", headers=bearer(token))

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid authentication credentials"}


async def test_a_token_of_an_inactive_user_is_401(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    token = await token_for(client, "ada@example.com")
    await db_session.execute(update(users).values(is_active=False))

    response = await client.get("/api/v1/users/me", headers=bearer(token))

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid authentication credentials"}


async def test_patch_me_changes_the_full_name(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    token = await token_for(client, "ada@example.com")

    response = await client.patch(
        "/api/v1/users/me", json={"full_name": "Countess"}, headers=bearer(token)
    )

    assert response.status_code == 200
    assert response.json()["full_name"] == "Countess"
    row = await user_row(db_session, response.json()["id"])
    assert row is not None
    assert row.full_name == "Countess"


async def test_patch_me_changes_the_password(client: httpx.AsyncClient) -> None:
    token = await token_for(client, "ada@example.com")

    response = await client.patch(
        "/api/v1/users/me",
        json={"password": "a brand new secret", "current_password": PASSWORD},
        headers=bearer(token),
    )

    assert response.status_code == 200
    assert (await login(client, "ada@example.com")).status_code == 401
    assert (await login(client, "ada@example.com", "a brand new secret")).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"password": "short", "current_password": PASSWORD},
        {"full_name": "n" * 201},
        {"email": "new@example.com"},
    ],
)
async def test_patch_me_rejects_bad_input(client: httpx.AsyncClient, body: dict[str, str]) -> None:
    token = await token_for(client, "ada@example.com")

    response = await client.patch("/api/v1/users/me", json=body, headers=bearer(token))

    assert response.status_code == 422


async def test_patch_me_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.patch("/api/v1/users/me", json={"full_name": "x"})

    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/users/"])
async def test_an_admin_lists_users_in_pages(
    client: httpx.AsyncClient, db_session: AsyncSession, path: str
) -> None:
    token = await token_for(client, "root@example.com")
    await make_admin(db_session, "root@example.com")
    for index in range(3):
        await register(client, f"user{index}@example.com")

    response = await client.get(path, params={"skip": 1, "limit": 2}, headers=bearer(token))

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 4
    assert (body["skip"], body["limit"]) == (1, 2)
    assert [u["email"] for u in body["items"]] == ["user0@example.com", "user1@example.com"]


async def test_a_non_admin_cannot_list_users(client: httpx.AsyncClient) -> None:
    token = await token_for(client, "ada@example.com")

    response = await client.get("/api/v1/users", headers=bearer(token))

    assert response.status_code == 403
    assert response.json() == {"detail": "Not enough permissions"}


async def test_listing_users_needs_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/users")).status_code == 401


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"skip": -1}])
async def test_out_of_range_paging_is_422(
    client: httpx.AsyncClient, db_session: AsyncSession, params: dict[str, int]
) -> None:
    token = await token_for(client, "root@example.com")
    await make_admin(db_session, "root@example.com")

    response = await client.get("/api/v1/users", params=params, headers=bearer(token))

    assert response.status_code == 422


async def test_a_user_reads_themself_by_id(client: httpx.AsyncClient) -> None:
    token = await token_for(client, "ada@example.com")
    me = (await client.get("/api/v1/users/me", headers=bearer(token))).json()

    response = await client.get(f"/api/v1/users/{me['id']}", headers=bearer(token))

    assert response.status_code == 200
    assert response.json() == me


async def test_a_user_cannot_read_another_user(client: httpx.AsyncClient) -> None:
    other = (await register(client, "bob@example.com")).json()
    token = await token_for(client, "ada@example.com")

    response = await client.get(f"/api/v1/users/{other['id']}", headers=bearer(token))

    assert response.status_code == 403
    assert response.json() == {"detail": "Not enough permissions"}


async def test_an_admin_reads_any_user(client: httpx.AsyncClient, db_session: AsyncSession) -> None:
    other = (await register(client, "bob@example.com")).json()
    token = await token_for(client, "root@example.com")
    await make_admin(db_session, "root@example.com")

    response = await client.get(f"/api/v1/users/{other['id']}", headers=bearer(token))

    assert response.status_code == 200
    assert response.json() == other


async def test_an_unknown_id_is_404_for_an_admin(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    token = await token_for(client, "root@example.com")
    await make_admin(db_session, "root@example.com")

    response = await client.get("/api/v1/users/999999", headers=bearer(token))

    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}


@pytest.mark.parametrize("user_id", ["abc", str(2**63)])
async def test_an_id_that_is_not_a_bigint_is_422(client: httpx.AsyncClient, user_id: str) -> None:
    token = await token_for(client, "ada@example.com")

    response = await client.get(f"/api/v1/users/{user_id}", headers=bearer(token))

    assert response.status_code == 422
