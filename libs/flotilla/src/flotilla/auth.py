"""Access-token verification shared by every service.

Tokens are JWTs signed by the users service with an asymmetric key; every
service verifies them itself against the JWKS. Only the algorithms in
:data:`ALLOWED_ALGORITHMS` are accepted, and the algorithm is taken from the
*key*, never from the token, which rules out ``alg: none`` and HS256 key
confusion.
"""

import asyncio
import logging
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import httpx
import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from flotilla.validation import INT64_MAX

logger = logging.getLogger(__name__)

ALLOWED_ALGORITHMS = frozenset({"RS256", "EdDSA"})
ADMIN_ROLE = "admin"

NOT_AUTHENTICATED = "Not authenticated"
INVALID_CREDENTIALS = "Invalid authentication credentials"
NOT_ENOUGH_PERMISSIONS = "Not enough permissions"


class InvalidTokenError(Exception):
    """The token is not acceptable; the reason is for logs, never for clients."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as stated by a verified access token."""

    user_id: int
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles


class KeySet(Protocol):
    async def key_for(self, kid: str) -> jwt.PyJWK: ...


def parse_jwks(document: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    """Index the usable keys of a JWKS document by ``kid``; skip the rest."""
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document.get("keys", []):
        kid = entry.get("kid")
        if not isinstance(kid, str):
            continue
        try:
            key = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            logger.warning("ignoring unusable JWKS key %s", kid)
            continue
        if key.algorithm_name in ALLOWED_ALGORITHMS:
            keys[kid] = key
    return keys


class StaticKeySet:
    """Keys known in-process (the users service verifies with its own public keys)."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        self._keys = parse_jwks(jwks)

    async def key_for(self, kid: str) -> jwt.PyJWK:
        try:
            return self._keys[kid]
        except KeyError:
            raise InvalidTokenError(f"unknown kid {kid!r}") from None


class JwksClient:
    """Fetches and caches a remote JWKS.

    The cache is refreshed after ``cache_seconds`` and, when a token names an
    unknown ``kid``, at most once per ``refetch_interval_seconds`` so a flood
    of forged kids cannot turn into a flood of fetches. A refresh replaces the
    whole set: a key removed from the JWKS stops verifying.
    """

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient,
        cache_seconds: float = 300.0,
        refetch_interval_seconds: float = 10.0,
    ) -> None:
        self.url = url
        self.http_client = client
        self._cache_seconds = cache_seconds
        self._refetch_interval = refetch_interval_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self.http_client.aclose()

    async def key_for(self, kid: str) -> jwt.PyJWK:
        if self._is_stale():
            await self._refresh(only_if_older_than=self._cache_seconds)
        key = self._keys.get(kid)
        if key is None:
            await self._refresh(only_if_older_than=self._refetch_interval)
            key = self._keys.get(kid)
        if key is None:
            raise InvalidTokenError(f"unknown kid {kid!r}")
        return key

    def _is_stale(self) -> bool:
        return self._fetched_at is None or self._age() >= self._cache_seconds

    def _age(self) -> float:
        return float("inf") if self._fetched_at is None else time.monotonic() - self._fetched_at

    async def _refresh(self, *, only_if_older_than: float) -> None:
        async with self._lock:
            if self._age() < only_if_older_than:
                return  # another request refreshed while we waited
            try:
                response = await self.http_client.get(self.url)
                response.raise_for_status()
                self._keys = parse_jwks(response.json())
            except (httpx.HTTPError, ValueError) as error:
                # Keep serving the keys we have; an outage of the issuer must
                # not log everybody out.
                logger.warning("JWKS fetch from %s failed: %s", self.url, type(error).__name__)
            self._fetched_at = time.monotonic()


class TokenVerifier:
    def __init__(self, keys: KeySet, *, issuer: str, audience: str) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidTokenError("malformed token") from error
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise InvalidTokenError(f"algorithm {header.get('alg')!r} not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidTokenError("token has no kid")
        key = await self.keys.key_for(kid)
        if header["alg"] != key.algorithm_name:
            raise InvalidTokenError("token algorithm does not match its key")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[key.algorithm_name],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidTokenError(f"rejected: {type(error).__name__}") from error
        return _principal_from(claims)


#: A user id as ``sub`` carries it: the canonical decimal form of a positive bigint.
_CANONICAL_USER_ID = re.compile(r"[1-9][0-9]{0,18}")
_MAX_USER_ID = INT64_MAX
#: NumericDate claims (RFC 7519 section 2): JSON numbers, from the epoch to the year 9999.
_NUMERIC_DATES = ("exp", "iat", "nbf")
_MAX_NUMERIC_DATE = 253_402_300_799


def _is_numeric_date(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= _MAX_NUMERIC_DATE
    )


def _principal_from(claims: Mapping[str, Any]) -> Principal:
    """The caller named by already verified claims, after checking every claim's type and range.

    PyJWT checks signature, issuer, audience and times, but reads ``exp`` with
    ``int()`` (so ``"exp": "9999999999"`` passes) and leaves ``sub`` and
    ``roles`` to us; a token must not reach a route with a claim of another type.
    """
    for name in _NUMERIC_DATES:
        if name in claims and not _is_numeric_date(claims[name]):
            raise InvalidTokenError(f"{name} is not a NumericDate")
    subject = claims["sub"]
    if not (isinstance(subject, str) and _CANONICAL_USER_ID.fullmatch(subject)):
        raise InvalidTokenError("sub is not a user id in canonical form")
    user_id = int(subject)
    if user_id > _MAX_USER_ID:
        raise InvalidTokenError("sub is beyond the range of user ids")
    roles = claims.get("roles", [])
    if not (isinstance(roles, list) and all(isinstance(role, str) for role in roles)):
        raise InvalidTokenError("roles is not a list of strings")
    return Principal(user_id=user_id, roles=frozenset(roles))


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


#: The API's OAuth2 password flow, so the docs' Authorize dialog asks for email and
#: password. Each app's document names its own ``token_url`` setting (flotilla.openapi).
_bearer = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="Log in with your email (as the username) and password.",
)


async def get_principal(
    request: Request, token: Annotated[str | None, Depends(_bearer)]
) -> Principal:
    if not token:  # no Authorization header, another scheme, or "Bearer" alone
        raise unauthorized(NOT_AUTHENTICATED)
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return await verifier.verify(token)
    except InvalidTokenError as error:
        logger.info("access token rejected: %s", error)
        raise unauthorized(INVALID_CREDENTIALS) from None


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def forbidden() -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=NOT_ENOUGH_PERMISSIONS)


async def require_admin(principal: CurrentPrincipal) -> Principal:
    if not principal.is_admin:
        raise forbidden()
    return principal


AdminPrincipal = Annotated[Principal, Depends(require_admin)]
