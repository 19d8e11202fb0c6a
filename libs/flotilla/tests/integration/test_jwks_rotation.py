"""Verification against a real JWKS endpoint follows key rotation."""

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from flotilla.auth import InvalidTokenError, JwksClient, TokenVerifier
from flotilla.testing.servers import serve_in_thread
from flotilla.testing.tokens import TEST_AUDIENCE, TEST_ISSUER, SigningKey, claims_for, jwks


class JwksEndpoint:
    """A JWKS served over real HTTP whose key list the test changes."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = list(keys)
        self.fetches = 0

    async def serve(self, request: Request) -> JSONResponse:
        self.fetches += 1
        return JSONResponse(jwks(self.keys))


@pytest.fixture
def old_key() -> SigningKey:
    return SigningKey()


@pytest.fixture
def endpoint(old_key: SigningKey) -> JwksEndpoint:
    return JwksEndpoint(old_key)


@pytest.fixture
def jwks_url(endpoint: JwksEndpoint) -> Iterator[str]:
    with serve_in_thread(Starlette(routes=[Route("/jwks", endpoint.serve)])) as base_url:
        yield f"{base_url}/jwks"


@pytest.fixture
def verifier(jwks_url: str) -> TokenVerifier:
    keys = JwksClient(jwks_url, client=httpx.AsyncClient(timeout=2), refetch_interval_seconds=0)
    return TokenVerifier(keys, issuer=TEST_ISSUER, audience=TEST_AUDIENCE)


async def test_keys_are_fetched_once_and_cached(
    verifier: TokenVerifier, old_key: SigningKey, endpoint: JwksEndpoint
) -> None:
    for _ in range(3):
        await verifier.verify(old_key.sign(claims_for(1)))

    assert endpoint.fetches == 1


async def test_a_new_kid_triggers_a_refetch(
    verifier: TokenVerifier, old_key: SigningKey, endpoint: JwksEndpoint
) -> None:
    await verifier.verify(old_key.sign(claims_for(1)))
    new_key = SigningKey()
    endpoint.keys.append(new_key)

    principal = await verifier.verify(new_key.sign(claims_for(2)))

    assert principal.user_id == 2
    assert endpoint.fetches == 2


async def test_a_key_removed_from_the_jwks_is_rejected(
    verifier: TokenVerifier, old_key: SigningKey, endpoint: JwksEndpoint
) -> None:
    await verifier.verify(old_key.sign(claims_for(1)))
    new_key = SigningKey()
    endpoint.keys[:] = [new_key]
    await verifier.verify(new_key.sign(claims_for(2)))

    with pytest.raises(InvalidTokenError, match="unknown kid"):
        await verifier.verify(old_key.sign(claims_for(1)))


async def test_a_jwks_outage_keeps_the_known_keys(jwks_url: str, old_key: SigningKey) -> None:
    keys = JwksClient(jwks_url, client=httpx.AsyncClient(timeout=2), cache_seconds=0)
    verifier = TokenVerifier(keys, issuer=TEST_ISSUER, audience=TEST_AUDIENCE)
    await verifier.verify(old_key.sign(claims_for(1)))
    keys.url = jwks_url.replace("/jwks", "/missing")

    principal = await verifier.verify(old_key.sign(claims_for(1)))

    assert principal.user_id == 1
