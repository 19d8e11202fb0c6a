"""Tokens are verified against the JWKS the users service publishes (here: a stub over HTTP)."""

import base64
import json
from collections.abc import Callable, Mapping

import httpx
import jwt
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flotilla.testing.tokens import SigningKey, bearer, claims_for
from items.models import items

from ..conftest import ADMIN_ID, OWNER_ID, AddItem

ITEM = {"name": "Lamp", "price": 1}


def _b64(data: Mapping[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned(key: SigningKey) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": key.kid}
    return f"{_b64(header)}.{_b64(claims_for(OWNER_ID))}."


def symmetric(key: SigningKey) -> str:
    secret = "a-shared-secret-of-at-least-32-bytes"
    return jwt.encode(claims_for(OWNER_ID), secret, algorithm="HS256", headers={"kid": key.kid})


def tampered(key: SigningKey) -> str:
    header, _, signature = key.sign(claims_for(OWNER_ID)).split(".")
    forged_claims = _b64(claims_for(ADMIN_ID, roles=["admin"]))
    return f"{header}.{forged_claims}.{signature}"


BAD_TOKENS: list[object] = [
    pytest.param(lambda key: "garbage", id="garbage"),
    pytest.param(lambda key: key.sign(claims_for(OWNER_ID, lifetime_seconds=-5)), id="expired"),
    pytest.param(lambda key: key.sign(claims_for(OWNER_ID, audience="other")), id="wrong-aud"),
    pytest.param(lambda key: key.sign(claims_for(OWNER_ID, issuer="evil")), id="wrong-iss"),
    pytest.param(lambda key: SigningKey().sign(claims_for(OWNER_ID)), id="unknown-key"),
    pytest.param(
        lambda key: SigningKey(kid=key.kid).sign(claims_for(OWNER_ID)), id="wrong-key-same-kid"
    ),
    pytest.param(unsigned, id="alg-none"),
    pytest.param(symmetric, id="hs256"),
    pytest.param(tampered, id="tampered"),
    pytest.param(lambda key: key.sign({**claims_for(OWNER_ID), "sub": "alice"}), id="sub-not-id"),
    pytest.param(lambda key: key.sign({**claims_for(OWNER_ID), "sub": "9" * 5000}), id="sub-huge"),
    pytest.param(
        lambda key: key.sign({**claims_for(OWNER_ID), "sub": str(2**63)}), id="sub-past-bigint"
    ),
    pytest.param(
        lambda key: key.sign({**claims_for(OWNER_ID), "sub": f"000{OWNER_ID}"}),
        id="sub-not-canonical",
    ),
    pytest.param(
        lambda key: key.sign({**claims_for(OWNER_ID), "exp": str(claims_for(1)["exp"])}),
        id="exp-string",
    ),
]


@pytest.mark.parametrize("token_of", BAD_TOKENS)
async def test_a_bad_token_is_401_and_creates_nothing(
    client: httpx.AsyncClient,
    signing_key: SigningKey,
    db_session: AsyncSession,
    token_of: Callable[[SigningKey], str],
) -> None:
    response = await client.post("/api/v1/items/", json=ITEM, headers=bearer(token_of(signing_key)))

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid authentication credentials"}
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await db_session.scalar(select(func.count()).select_from(items)) == 0


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_a_bad_token_is_401_before_looking_at_the_item(
    client: httpx.AsyncClient, add_item: AddItem, method: str
) -> None:
    item_id = await add_item()

    for path in (f"/api/v1/items/{item_id}", f"/api/v1/items/{item_id + 1}"):
        response = await client.request(method, path, json=ITEM, headers=bearer("garbage"))

        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid authentication credentials"}


async def test_a_non_bearer_scheme_is_401_not_authenticated(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/items/", json=ITEM, headers={"Authorization": "Basic dXNlcjpwYXNz"}
    )

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}


async def test_reading_ignores_credentials(client: httpx.AsyncClient, add_item: AddItem) -> None:
    item_id = await add_item()

    listing = await client.get("/api/v1/items/", headers=bearer("garbage"))
    one = await client.get(f"/api/v1/items/{item_id}", headers=bearer("garbage"))

    assert (listing.status_code, one.status_code) == (200, 200)
