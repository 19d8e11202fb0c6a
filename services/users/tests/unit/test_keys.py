from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from flotilla.settings import Environment
from flotilla.testing.settings import settings_for_test
from users.keys import KeyConfigurationError, load_signing_keys, public_jwk
from users.settings import UsersSettings

from ..conftest import private_pem


def settings_with(tmp_path: Path, **values: object) -> UsersSettings:
    return settings_for_test(
        UsersSettings, environment=Environment.DEVELOPMENT, data_dir=tmp_path, **values
    )


def test_the_kid_is_the_rfc7638_thumbprint() -> None:
    # The example key of RFC 8037, appendix A.3.
    public = Ed25519PrivateKey.from_private_bytes(
        bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    ).public_key()

    assert public_jwk(public)["kid"] == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_a_configured_pem_signs_tokens_that_its_jwks_verifies(tmp_path: Path) -> None:
    keys = load_signing_keys(
        settings_with(tmp_path, signing_key=SecretStr(private_pem(Ed25519PrivateKey.generate())))
    )

    token = keys.sign({"sub": "1"})

    verified = jwt.decode(token, jwt.PyJWK(keys.jwks()["keys"][0]), algorithms=["EdDSA"])
    assert verified == {"sub": "1"}
    assert jwt.get_unverified_header(token)["kid"] == keys.kid


def test_an_rsa_key_signs_with_rs256(tmp_path: Path) -> None:
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )

    keys = load_signing_keys(settings_with(tmp_path, signing_key=SecretStr(pem)))

    assert keys.algorithm == "RS256"
    assert keys.jwks()["keys"][0]["kty"] == "RSA"


def test_a_weak_rsa_key_is_refused(tmp_path: Path) -> None:
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (the point of the test)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )

    with pytest.raises(KeyConfigurationError, match="at least 2048"):
        load_signing_keys(settings_with(tmp_path, signing_key=SecretStr(pem)))


def test_garbage_instead_of_a_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigurationError, match="not an unencrypted PEM"):
        load_signing_keys(settings_with(tmp_path, signing_key=SecretStr("not a key")))


def test_the_key_can_come_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key.pem"
    key_file.write_text(private_pem(Ed25519PrivateKey.generate()))

    keys = load_signing_keys(settings_with(tmp_path, signing_key_file=key_file))

    assert keys.algorithm == "EdDSA"


def test_development_generates_a_key_once_and_reuses_it(tmp_path: Path) -> None:
    first = load_signing_keys(settings_with(tmp_path))
    second = load_signing_keys(settings_with(tmp_path))

    assert first.kid == second.kid
    assert (tmp_path / "signing-key.pem").stat().st_mode & 0o777 == 0o600


def test_retired_public_keys_are_published_after_the_active_one(tmp_path: Path) -> None:
    retired = Ed25519PrivateKey.generate().public_key()
    retired_pem = retired.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()

    keys = load_signing_keys(settings_with(tmp_path, retired_public_keys=[retired_pem]))

    assert [k["kid"] for k in keys.jwks()["keys"]] == [keys.kid, public_jwk(retired)["kid"]]
