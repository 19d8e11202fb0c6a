import base64
import hashlib

import pytest

from users.refresh_tokens import new_refresh_token, refresh_token_hash


def test_a_token_carries_256_random_bits() -> None:
    token, _ = new_refresh_token()

    assert len(base64.urlsafe_b64decode(token + "=")) == 32


def test_tokens_never_repeat() -> None:
    tokens = {new_refresh_token()[0] for _ in range(1000)}

    assert len(tokens) == 1000


def test_a_token_is_opaque_not_a_jwt() -> None:
    token, _ = new_refresh_token()

    assert "." not in token


def test_what_is_stored_is_the_sha256_of_the_token() -> None:
    token, stored = new_refresh_token()

    assert stored == hashlib.sha256(token.encode()).digest()
    assert token.encode() not in stored


def test_a_presented_token_hashes_to_what_was_stored() -> None:
    token, stored = new_refresh_token()

    assert refresh_token_hash(token) == stored


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "short",
        "x" * 44,
        "a.b.c",
        "é" * 43,
        "\ud800" * 43,
        "\x00" * 43,
        "A" * 42 + "=",
    ],
)
def test_a_string_of_another_shape_has_no_hash(presented: str) -> None:
    assert refresh_token_hash(presented) is None
