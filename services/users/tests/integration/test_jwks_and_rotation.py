import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession

from flotilla.testing.tokens import bearer, claims_for
from users.keys import public_jwk
from users.settings import UsersSettings

from ..conftest import client_for, login, register


async def test_jwks_publishes_the_public_key_that_signs_tokens(client: httpx.AsyncClient) -> None:
    await register(client, "ada@example.com")
    token = (await login(client, "ada@example.com")).json()["access_token"]

    keys = (await client.get("/api/v1/auth/jwks")).json()["keys"]

    assert [key["kid"] for key in keys] == [jwt.get_unverified_header(token)["kid"]]
    assert keys[0]["kty"] == "OKP"
    assert keys[0]["alg"] == "EdDSA"
    assert "d" not in keys[0]


async def test_a_token_signed_by_a_retired_key_stays_valid(
    client: httpx.AsyncClient, db_session: AsyncSession, settings: UsersSettings
) -> None:
    user_id = (await register(client, "ada@example.com")).json()["id"]
    retired = Ed25519PrivateKey.generate()
    retired_pem = retired.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kid = public_jwk(retired.public_key())["kid"]
    old_token = jwt.encode(claims_for(user_id), retired, algorithm="EdDSA", headers={"kid": kid})
    rotated = settings.model_copy(update={"retired_public_keys": [retired_pem.decode()]})

    async with client_for(rotated, db_session) as rotated_client:
        jwks = (await rotated_client.get("/api/v1/auth/jwks")).json()["keys"]
        response = await rotated_client.get("/api/v1/users/me", headers=bearer(old_token))

    assert [key["kid"] for key in jwks][1:] == [kid]
    assert response.status_code == 200
    assert response.json()["id"] == user_id


async def test_a_token_signed_by_a_key_no_longer_listed_is_rejected(
    client: httpx.AsyncClient,
) -> None:
    user_id = (await register(client, "ada@example.com")).json()["id"]
    forgotten = Ed25519PrivateKey.generate()
    kid = public_jwk(forgotten.public_key())["kid"]
    token = jwt.encode(claims_for(user_id), forgotten, algorithm="EdDSA", headers={"kid": kid})

    response = await client.get("/api/v1/users/me", headers=bearer(token))

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid authentication credentials"}
