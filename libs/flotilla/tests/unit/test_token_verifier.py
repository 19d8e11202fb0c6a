"""Every way a token can be wrong is rejected; a good one yields its principal."""

import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from flotilla.auth import InvalidTokenError, Principal, StaticKeySet, TokenVerifier
from flotilla.testing.tokens import TEST_AUDIENCE, TEST_ISSUER, SigningKey, claims_for, jwks


@pytest.fixture
def key() -> SigningKey:
    return SigningKey()


@pytest.fixture
def verifier(key: SigningKey) -> TokenVerifier:
    return TokenVerifier(StaticKeySet(jwks([key])), issuer=TEST_ISSUER, audience=TEST_AUDIENCE)


async def test_a_valid_token_yields_the_user_and_roles(
    key: SigningKey, verifier: TokenVerifier
) -> None:
    principal = await verifier.verify(key.sign(claims_for(42, roles=["admin"])))

    assert principal == Principal(user_id=42, roles=frozenset({"admin"}))
    assert principal.is_admin


async def test_an_rs256_key_verifies_too() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    verifier = TokenVerifier(
        StaticKeySet({"keys": [{**public_jwk, "kid": "rsa1", "alg": "RS256"}]}),
        issuer=TEST_ISSUER,
        audience=TEST_AUDIENCE,
    )
    token = jwt.encode(claims_for(7), private, algorithm="RS256", headers={"kid": "rsa1"})

    assert (await verifier.verify(token)).user_id == 7


async def test_alg_none_is_rejected(key: SigningKey, verifier: TokenVerifier) -> None:
    header = _b64({"alg": "none", "kid": key.kid, "typ": "JWT"})
    token = f"{header}.{_b64(claims_for(1))}."

    with pytest.raises(InvalidTokenError, match="not allowed"):
        await verifier.verify(token)


async def test_hs256_signed_with_the_public_key_is_rejected(
    key: SigningKey, verifier: TokenVerifier
) -> None:
    public_pem = key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = _hmac_token(claims_for(1), public_pem, kid=key.kid)

    with pytest.raises(InvalidTokenError, match="not allowed"):
        await verifier.verify(token)


async def test_a_tampered_payload_is_rejected(key: SigningKey, verifier: TokenVerifier) -> None:
    header, _, signature = key.sign(claims_for(1)).split(".")
    forged_payload = _b64(claims_for(1, roles=["admin"]))

    with pytest.raises(InvalidTokenError, match="InvalidSignatureError"):
        await verifier.verify(f"{header}.{forged_payload}.{signature}")


async def test_a_token_signed_by_an_unlisted_key_is_rejected(verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidTokenError, match="unknown kid"):
        await verifier.verify(SigningKey().sign(claims_for(1)))


async def test_a_known_kid_with_a_foreign_signature_is_rejected(
    key: SigningKey, verifier: TokenVerifier
) -> None:
    impostor = SigningKey(kid=key.kid)

    with pytest.raises(InvalidTokenError, match="InvalidSignatureError"):
        await verifier.verify(impostor.sign(claims_for(1)))


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (claims_for(1, audience="someone-else"), "InvalidAudienceError"),
        (claims_for(1, issuer="https://evil.example"), "InvalidIssuerError"),
        (claims_for(1, lifetime_seconds=-60), "ExpiredSignatureError"),
        ({k: v for k, v in claims_for(1).items() if k != "exp"}, "MissingRequiredClaimError"),
        ({**claims_for(1), "sub": "not-a-number"}, "sub is not a user id"),
        ({**claims_for(1), "roles": "admin"}, "roles is not a list"),
    ],
)
async def test_bad_claims_are_rejected(
    key: SigningKey, verifier: TokenVerifier, claims: dict[str, object], reason: str
) -> None:
    with pytest.raises(InvalidTokenError, match=reason):
        await verifier.verify(key.sign(claims))


FUTURE = claims_for(1)["exp"]


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("exp", str(FUTURE)),
        ("exp", True),
        ("exp", [FUTURE]),
        ("exp", float("inf")),
        ("exp", 10**20),
        ("iat", str(FUTURE - 300)),
        ("iat", -1),
        ("nbf", "0"),
        ("nbf", None),
    ],
    ids=[
        "exp-string",
        "exp-bool",
        "exp-list",
        "exp-infinite",
        "exp-past-year-9999",
        "iat-string",
        "iat-negative",
        "nbf-string",
        "nbf-null",
    ],
)
async def test_a_numeric_date_that_is_not_a_number_in_range_is_rejected(
    key: SigningKey, verifier: TokenVerifier, claim: str, value: object
) -> None:
    with pytest.raises(InvalidTokenError):
        await verifier.verify(key.sign({**claims_for(1), claim: value}))


@pytest.mark.parametrize(
    "subject",
    ["0004", "0", "-4", "+4", " 4", "4 ", "4.0", "\u0664", "", str(2**63), "9" * 5000, 4, None],
    ids=[
        "leading-zeros",
        "zero",
        "negative",
        "plus-sign",
        "leading-space",
        "trailing-space",
        "decimal-point",
        "arabic-indic-digit",
        "empty",
        "beyond-bigint",
        "5000-digits",
        "a-json-number",
        "null",
    ],
)
async def test_a_sub_other_than_a_canonical_user_id_is_rejected(
    key: SigningKey, verifier: TokenVerifier, subject: object
) -> None:
    with pytest.raises(InvalidTokenError):
        await verifier.verify(key.sign({**claims_for(1), "sub": subject}))


@pytest.mark.parametrize("roles", ["admin", [1], None, {"admin": True}])
async def test_roles_other_than_a_list_of_strings_are_rejected(
    key: SigningKey, verifier: TokenVerifier, roles: object
) -> None:
    with pytest.raises(InvalidTokenError, match="roles"):
        await verifier.verify(key.sign({**claims_for(1), "roles": roles}))


async def test_the_largest_user_id_and_a_fractional_exp_are_accepted(
    key: SigningKey, verifier: TokenVerifier
) -> None:
    claims = {**claims_for(1), "sub": str(2**63 - 1), "exp": FUTURE + 0.5}

    principal = await verifier.verify(key.sign(claims))

    assert principal.user_id == 2**63 - 1


async def test_a_token_without_kid_is_rejected(key: SigningKey, verifier: TokenVerifier) -> None:
    token = jwt.encode(claims_for(1), key.private_key, algorithm="EdDSA")

    with pytest.raises(InvalidTokenError, match="no kid"):
        await verifier.verify(token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "....", "eyJhbGciOi"])
async def test_garbage_is_rejected(verifier: TokenVerifier, garbage: str) -> None:
    with pytest.raises(InvalidTokenError):
        await verifier.verify(garbage)


def _b64(data: dict[str, object]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _hmac_token(claims: dict[str, object], secret: bytes, *, kid: str) -> str:
    """Forge HS256 by hand: PyJWT itself refuses to use a PEM key as an HMAC secret."""
    import hashlib
    import hmac

    signing_input = f"{_b64({'alg': 'HS256', 'kid': kid, 'typ': 'JWT'})}.{_b64(claims)}"
    digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return f"{signing_input}.{signature}"
