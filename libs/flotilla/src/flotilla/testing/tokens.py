"""Signing keys and tokens for tests: what the users service issues, made locally."""

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

TEST_ISSUER = "flotilla-users"
TEST_AUDIENCE = "flotilla"


@dataclass
class SigningKey:
    """An Ed25519 key pair with its ``kid``."""

    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    private_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = jwt.algorithms.OKPAlgorithm.to_jwk(
            self.private_key.public_key(), as_dict=True
        )
        return {**jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        return jwt.encode(
            claims,
            self.private_key,
            algorithm="EdDSA",
            headers={"kid": self.kid, **(headers or {})},
        )


def jwks(keys: Iterable[SigningKey]) -> dict[str, Any]:
    return {"keys": [key.public_jwk() for key in keys]}


def claims_for(
    user_id: int,
    *,
    roles: Iterable[str] = (),
    issuer: str = TEST_ISSUER,
    audience: str = TEST_AUDIENCE,
    lifetime_seconds: int = 300,
) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": str(user_id),
        "roles": list(roles),
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime_seconds,
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
