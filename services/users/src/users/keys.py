"""Signing keys: the active private key and the public keys still trusted.

The ``kid`` of a key is its RFC 7638 thumbprint, so every replica loading the
same key publishes the same id without coordination.
"""

import base64
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from flotilla.settings import Environment
from users.settings import UsersSettings

logger = logging.getLogger(__name__)

PrivateKey = Ed25519PrivateKey | RSAPrivateKey
PublicKey = Ed25519PublicKey | RSAPublicKey
MIN_RSA_BITS = 2048
DEV_KEY_FILENAME = "signing-key.pem"


class KeyConfigurationError(ValueError):
    """The configured key is missing, unreadable or not an accepted kind."""


@dataclass(frozen=True)
class PublishedKey:
    kid: str
    algorithm: str
    jwk: dict[str, str]


def algorithm_for(key: PrivateKey | PublicKey) -> str:
    return "EdDSA" if isinstance(key, Ed25519PrivateKey | Ed25519PublicKey) else "RS256"


def public_jwk(key: PublicKey) -> dict[str, str]:
    if isinstance(key, Ed25519PublicKey):
        raw: dict[str, Any] = jwt.algorithms.OKPAlgorithm.to_jwk(key, as_dict=True)
        members = ("crv", "kty", "x")
    else:
        raw = jwt.algorithms.RSAAlgorithm.to_jwk(key, as_dict=True)
        members = ("e", "kty", "n")
    canonical = json.dumps({m: raw[m] for m in members}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    kid = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return {
        **{m: str(raw[m]) for m in members},
        "kid": kid,
        "alg": algorithm_for(key),
        "use": "sig",
    }


class SigningKeys:
    def __init__(self, active: PrivateKey, retired: list[PublicKey]) -> None:
        self.active = active
        self.active_jwk = public_jwk(active.public_key())
        self.published = [self.active_jwk, *(public_jwk(key) for key in retired)]

    @property
    def kid(self) -> str:
        return self.active_jwk["kid"]

    @property
    def algorithm(self) -> str:
        return self.active_jwk["alg"]

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": list(self.published)}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.active, algorithm=self.algorithm, headers={"kid": self.kid})


def load_signing_keys(settings: UsersSettings) -> SigningKeys:
    active = _configured_private_key(settings) or _development_key(settings)
    retired = [_public_key(pem.encode()) for pem in settings.retired_public_keys]
    return SigningKeys(active, retired)


def _configured_private_key(settings: UsersSettings) -> PrivateKey | None:
    if settings.signing_key is not None:
        return _private_key(settings.signing_key.get_secret_value().encode())
    if settings.signing_key_file is not None:
        try:
            return _private_key(settings.signing_key_file.read_bytes())
        except OSError as error:
            raise KeyConfigurationError(f"cannot read signing key file: {error}") from None
    return None


def _development_key(settings: UsersSettings) -> PrivateKey:
    """Outside production, generate a key once and keep it under the data directory."""
    if settings.environment is Environment.PRODUCTION:
        raise KeyConfigurationError("production needs USERS_SIGNING_KEY or USERS_SIGNING_KEY_FILE")
    path = settings.data_dir / DEV_KEY_FILENAME
    if not path.exists():
        _write_new_key(path)
        logger.warning(
            "generated a development signing key at %s; configure one for real use", path
        )
    return _private_key(path.read_bytes())


def _write_new_key(path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process won the race; its key is as good as ours
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)


def _private_key(pem: bytes) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise KeyConfigurationError("signing key is not an unencrypted PEM private key") from None
    if isinstance(key, Ed25519PrivateKey):
        return key
    if isinstance(key, RSAPrivateKey) and key.key_size >= MIN_RSA_BITS:
        return key
    raise KeyConfigurationError("signing key must be Ed25519 or RSA of at least 2048 bits")


def _public_key(pem: bytes) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise KeyConfigurationError("a retired public key is not a PEM public key") from None
    if isinstance(key, Ed25519PublicKey | RSAPublicKey):
        return key
    raise KeyConfigurationError("retired public keys must be Ed25519 or RSA")
