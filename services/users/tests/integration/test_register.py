import asyncio

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from users.models import users

from ..conftest import PASSWORD, register, user_row

DOTLESS_I = "\N{LATIN SMALL LETTER DOTLESS I}"


async def test_registration_returns_the_user_without_any_password(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    response = await register(client, "ada@example.com", full_name="Ada Lovelace")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "full_name", "is_active", "is_admin", "created_at"}
    assert body["email"] == "ada@example.com"
    assert body["full_name"] == "Ada Lovelace"
    assert body["is_active"] is True
    assert body["is_admin"] is False
    assert body["created_at"].endswith(("Z", "+00:00"))
    row = await user_row(db_session, body["id"])
    assert row is not None
    assert row.hashed_password.startswith("$argon2id$")
    assert PASSWORD not in row.hashed_password


async def test_full_name_is_optional(client: httpx.AsyncClient) -> None:
    response = await register(client, "nobody@example.com")

    assert response.status_code == 201
    assert response.json()["full_name"] is None


async def test_an_email_is_taken_case_insensitively(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    await register(client, "a@x.io")

    response = await register(client, "A@X.io")

    assert response.status_code == 409
    assert response.json() == {"detail": "Email already registered"}
    assert len((await db_session.execute(select(users))).all()) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "x@example.com", "password": "short"}, "password"),
        ({"email": "x@example.com", "password": "p" * 129}, "password"),
        ({"email": "x@example.com", "password": PASSWORD, "full_name": "n" * 201}, "full_name"),
        ({"email": "x@example.com", "password": PASSWORD, "is_admin": True}, "is_admin"),
        ({"password": PASSWORD}, "email"),
        ({"email": "x@example.com", "password": PASSWORD, "full_name": "nul\x00"}, "full_name"),
        ({"email": "x" * 300 + "@example.com", "password": PASSWORD}, "email"),
    ],
    ids=[
        "invalid-email",
        "short-pw",
        "long-pw",
        "long-name",
        "extra-field",
        "no-email",
        "nul-in-name",
        "huge",
    ],
)
async def test_bad_registrations_are_422_naming_the_field(
    client: httpx.AsyncClient, db_session: AsyncSession, body: dict[str, object], field: str
) -> None:
    response = await client.post("/api/v1/auth/register", json=body)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert (await db_session.execute(select(users))).first() is None


async def test_a_password_of_exactly_8_and_128_characters_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    assert (await register(client, "eight@example.com", "p" * 8)).status_code == 201
    assert (await register(client, "long@example.com", "p" * 128)).status_code == 201


async def test_a_body_that_is_not_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        content=b"email=x@example.com",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


async def test_a_unicode_email_is_stored_as_given(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    response = await register(client, "josé@exämple.com", full_name="José Ñandú 日本")

    assert response.status_code == 201
    row = await user_row(db_session, response.json()["id"])
    assert row is not None
    assert row.email == "josé@exämple.com"
    assert row.full_name == "José Ñandú 日本"


async def test_two_concurrent_registrations_of_one_email_make_one_user(
    committing_client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    responses = await asyncio.gather(
        register(committing_client, "race@example.com"),
        register(committing_client, "RACE@example.com"),
    )

    assert sorted(r.status_code for r in responses) == [201, 409]
    rows = (await db_session.execute(select(users))).all()
    assert len(rows) == 1


#: Pairs of addresses that are one identity (NFKC, then case folding).
ONE_IDENTITY = [
    ("STRASSE@example.com", "straße@example.com"),
    ("ΣΊΣΥΦΟΣ@example.com", "σίσυφος@example.com"),
    ("İSTANBUL@example.com", "i̇stanbul@example.com"),
    ("Ada@Example.com", "ada@EXAMPLE.com"),
]
ONE_IDENTITY_IDS = ["german-sharp-s", "greek-final-sigma", "turkish-dotted-I", "ascii-case"]


@pytest.mark.parametrize(("first", "second"), ONE_IDENTITY, ids=ONE_IDENTITY_IDS)
async def test_a_second_variant_of_one_email_identity_is_409(
    client: httpx.AsyncClient, db_session: AsyncSession, first: str, second: str
) -> None:
    assert (await register(client, first)).status_code == 201

    response = await register(client, second)

    assert response.status_code == 409
    assert response.json() == {"detail": "Email already registered"}
    assert len((await db_session.execute(select(users))).all()) == 1


async def test_the_dotless_i_is_another_identity_than_i(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    dotless = await register(client, f"{DOTLESS_I}stanbul@example.com")
    plain = await register(client, "istanbul@example.com")

    assert (dotless.status_code, plain.status_code) == (201, 201)
    assert len((await db_session.execute(select(users))).all()) == 2


async def test_the_stored_identity_is_the_folded_address(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    response = await register(client, "ΣΊΣΥΦΟΣ.STRASSE@example.com")

    row = await user_row(db_session, response.json()["id"])
    assert row is not None
    assert row.email == "ΣΊΣΥΦΟΣ.STRASSE@example.com"
    assert row.email_identity == "σίσυφοσ.strasse@example.com"
