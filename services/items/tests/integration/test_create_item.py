"""POST /api/v1/items/: users create items they own; bad input is a 422 that stores nothing."""

from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from items.models import items

from ..conftest import OWNER_ID, Headers, stored_item

URL = "/api/v1/items/"
MAX_PRICE = 2**63 - 1


async def count_items(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(items)) or 0


async def test_create_answers_201_with_the_item_owned_by_the_caller(
    client: httpx.AsyncClient, owner: Headers, db_session: AsyncSession
) -> None:
    response = await client.post(
        URL, json={"name": "Lamp", "description": "Brass", "price": 4999}, headers=owner
    )

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Lamp"
    assert body["description"] == "Brass"
    assert body["price"] == 4999
    assert body["owner_id"] == OWNER_ID
    row = await stored_item(db_session, body["id"])
    assert row is not None
    assert (row["name"], row["description"], row["price"], row["owner_id"]) == (
        "Lamp",
        "Brass",
        4999,
        OWNER_ID,
    )


async def test_create_sets_location_to_the_new_item(
    client: httpx.AsyncClient, owner: Headers
) -> None:
    response = await client.post(URL, json={"name": "Lamp", "price": 1}, headers=owner)

    assert response.headers["Location"] == f"/api/v1/items/{response.json()['id']}"
    assert (await client.get(response.headers["Location"])).json() == response.json()


async def test_timestamps_are_utc_iso_8601_and_equal_on_create(
    client: httpx.AsyncClient, owner: Headers, db_session: AsyncSession
) -> None:
    response = await client.post(URL, json={"name": "Lamp", "price": 1}, headers=owner)

    body = response.json()
    created_at = datetime.fromisoformat(body["created_at"])
    assert created_at.utcoffset() is not None
    assert created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert body["updated_at"] == body["created_at"]
    row = await stored_item(db_session, body["id"])
    assert row is not None
    assert row["created_at"] == created_at


async def test_description_is_optional_and_null_when_omitted(
    client: httpx.AsyncClient, owner: Headers, db_session: AsyncSession
) -> None:
    response = await client.post(URL, json={"name": "Lamp", "price": 1}, headers=owner)

    assert response.status_code == 201
    assert response.json()["description"] is None
    row = await stored_item(db_session, response.json()["id"])
    assert row is not None
    assert row["description"] is None


async def test_without_a_token_create_is_401_and_stores_nothing(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    response = await client.post(URL, json={"name": "Lamp", "price": 1})

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await count_items(db_session) == 0


async def test_missing_name_is_422_located_at_body_name(
    client: httpx.AsyncClient, owner: Headers
) -> None:
    response = await client.post(URL, json={"price": 10}, headers=owner)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]
    assert response.json()["detail"][0]["type"] == "missing"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({"name": "Lamp"}, ["body", "price"], id="missing-price"),
        pytest.param({"name": "", "price": 1}, ["body", "name"], id="empty-name"),
        pytest.param({"name": "x" * 201, "price": 1}, ["body", "name"], id="name-201-chars"),
        pytest.param({"name": "x" * 100_000, "price": 1}, ["body", "name"], id="name-100k-chars"),
        pytest.param(
            {"name": "Lamp", "description": "d" * 2001, "price": 1},
            ["body", "description"],
            id="description-2001-chars",
        ),
        pytest.param({"name": None, "price": 1}, ["body", "name"], id="null-name"),
        pytest.param({"name": 123, "price": 1}, ["body", "name"], id="numeric-name"),
        pytest.param({"name": "Lamp\x00", "price": 1}, ["body", "name"], id="nul-in-name"),
        pytest.param({"name": "Lamp", "price": -1}, ["body", "price"], id="negative-price"),
        pytest.param({"name": "Lamp", "price": 10.5}, ["body", "price"], id="fractional-price"),
        pytest.param({"name": "Lamp", "price": 10.0}, ["body", "price"], id="float-price"),
        pytest.param({"name": "Lamp", "price": "12"}, ["body", "price"], id="string-price"),
        pytest.param({"name": "Lamp", "price": True}, ["body", "price"], id="boolean-price"),
        pytest.param({"name": "Lamp", "price": None}, ["body", "price"], id="null-price"),
        pytest.param({"name": "Lamp", "price": 2**63}, ["body", "price"], id="price-2^63"),
        pytest.param({"name": "Lamp", "price": 2**64}, ["body", "price"], id="price-2^64"),
        pytest.param({"name": "Lamp", "price": 1, "owner_id": 7}, ["body", "owner_id"], id="owner"),
        pytest.param({"name": "Lamp", "price": 1, "id": 7}, ["body", "id"], id="id"),
        pytest.param({"name": "Lamp", "prcie": 1}, ["body", "price"], id="typo"),
    ],
)
async def test_bad_fields_are_422_and_store_nothing(
    client: httpx.AsyncClient,
    owner: Headers,
    db_session: AsyncSession,
    body: dict[str, Any],
    loc: list[str],
) -> None:
    response = await client.post(URL, json=body, headers=owner)

    assert response.status_code == 422
    assert loc in [error["loc"] for error in response.json()["detail"]]
    assert await count_items(db_session) == 0


async def test_a_lone_surrogate_in_the_name_is_422(
    client: httpx.AsyncClient, owner: Headers, db_session: AsyncSession
) -> None:
    # Valid JSON, but no UTF-8 text: Postgres could not store it.
    headers = {**owner, "Content-Type": "application/json"}

    response = await client.post(URL, content=rb'{"name": "\ud800", "price": 1}', headers=headers)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]
    assert await count_items(db_session) == 0


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"name": "Lamp", "price": ', id="truncated-json"),
        pytest.param(b'["Lamp", 1]', id="array"),
        pytest.param(b'{"name": "Lamp", "price": NaN}', id="nan-price"),
        pytest.param(b'{"name": "Lamp", "price": 1, "\\ud800": 1}', id="surrogate-key"),
    ],
)
async def test_a_body_that_is_not_an_item_object_is_422(
    client: httpx.AsyncClient, owner: Headers, db_session: AsyncSession, content: bytes
) -> None:
    headers = {**owner, "Content-Type": "application/json"}

    response = await client.post(URL, content=content, headers=headers)

    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
    assert await count_items(db_session) == 0


async def test_a_price_too_long_to_parse_is_a_400(
    client: httpx.AsyncClient, owner: Headers, db_session: AsyncSession
) -> None:
    # Python's JSON parser refuses integers of more than 4300 digits; FastAPI says 400.
    headers = {**owner, "Content-Type": "application/json"}
    content = b'{"name": "Lamp", "price": ' + b"9" * 5000 + b"}"

    response = await client.post(URL, content=content, headers=headers)

    assert response.status_code == 400
    assert response.json() == {"detail": "There was an error parsing the body"}
    assert await count_items(db_session) == 0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"name": "x", "price": 0}, id="one-char-name-zero-price"),
        pytest.param({"name": "x" * 200, "price": MAX_PRICE}, id="200-char-name-max-price"),
        pytest.param({"name": "Lamp", "description": "d" * 2000, "price": 1}, id="2000-chars"),
        pytest.param({"name": "Lamp", "description": "", "price": 1}, id="empty-description"),
        pytest.param({"name": "  spaced  ", "price": 1}, id="kept-whitespace"),
    ],
)
async def test_values_at_the_limits_are_stored_exactly(
    client: httpx.AsyncClient, owner: Headers, db_session: AsyncSession, body: dict[str, Any]
) -> None:
    response = await client.post(URL, json=body, headers=owner)

    assert response.status_code == 201
    row = await stored_item(db_session, response.json()["id"])
    assert row is not None
    assert {key: row[key] for key in body} == body
    assert {key: response.json()[key] for key in body} == body


@pytest.mark.parametrize(
    "text",
    [
        "Robert'); DROP TABLE items;--",
        "' OR '1'='1",
        "1; SELECT pg_sleep(10)",
        "%_\\ $1 :name %(name)s",
    ],
)
async def test_sql_looking_strings_are_stored_verbatim(
    client: httpx.AsyncClient, owner: Headers, db_session: AsyncSession, text: str
) -> None:
    response = await client.post(
        URL, json={"name": text, "description": text, "price": 1}, headers=owner
    )

    assert response.status_code == 201
    assert response.json()["name"] == text
    row = await stored_item(db_session, response.json()["id"])
    assert row is not None
    assert (row["name"], row["description"]) == (text, text)
    assert await count_items(db_session) == 1


@pytest.mark.parametrize(
    "name",
    [
        "Crème brûlée",
        "茶碗 お茶",
        "مرحبا",
        "Teacup 🍵",
        "e\u0301",  # "e" and a combining acute accent: two characters
        "🍵" * 200,  # 200 characters, 800 bytes
    ],
)
async def test_unicode_names_are_stored_verbatim(
    client: httpx.AsyncClient, owner: Headers, db_session: AsyncSession, name: str
) -> None:
    response = await client.post(URL, json={"name": name, "price": 1}, headers=owner)

    assert response.status_code == 201
    assert response.json()["name"] == name
    row = await stored_item(db_session, response.json()["id"])
    assert row is not None
    assert row["name"] == name


async def test_a_name_of_201_emoji_is_too_long(client: httpx.AsyncClient, owner: Headers) -> None:
    response = await client.post(URL, json={"name": "🍵" * 201, "price": 1}, headers=owner)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]
