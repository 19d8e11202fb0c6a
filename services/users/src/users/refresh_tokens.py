"""Opaque refresh tokens: 256 random bits, stored only as their SHA-256.

A token this random needs no salt (there is nothing to precompute a table
of), and it must be found by its hash, which a per-row salt would prevent.
"""

import hashlib
import re
import secrets

TOKEN_BYTES = 32
#: ``secrets.token_urlsafe(32)``: 43 characters of unpadded base64url.
_ISSUED_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def _sha256(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()


def new_refresh_token() -> tuple[str, bytes]:
    """A new token for the client, and the hash to store instead of it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, _sha256(token)


def refresh_token_hash(token: str) -> bytes | None:
    """The stored form of ``token``; ``None`` for a string no token of ours can be."""
    if _ISSUED_SHAPE.fullmatch(token) is None:
        return None
    return _sha256(token)
