"""The plugin's stand-in for the users service's keys, as a service's tests use it."""

import httpx

from flotilla.auth import JwksClient, TokenVerifier
from flotilla.testing.tokens import TEST_AUDIENCE, TEST_ISSUER, SigningKey, claims_for


async def test_a_token_signed_with_signing_key_verifies_against_jwks_url(
    signing_key: SigningKey, jwks_url: str
) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        verifier = TokenVerifier(
            JwksClient(jwks_url, client=client), issuer=TEST_ISSUER, audience=TEST_AUDIENCE
        )

        principal = await verifier.verify(signing_key.sign(claims_for(7, roles=["admin"])))

    assert (principal.user_id, principal.roles) == (7, frozenset({"admin"}))
