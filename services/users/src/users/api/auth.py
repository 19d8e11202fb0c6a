"""Registration, login, sessions and the public keys that verify tokens."""

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, status

from flotilla.auth import unauthorized
from flotilla.db import DatabaseDep
from flotilla.responses import MALFORMED_BODY, error_response
from flotilla.validation import STORABLE
from users import repository, sessions
from users.api.errors import LOCKED_OUT, locked_out
from users.deps import HasherDep, LockoutPolicyDep, SessionPolicyDep, TokenIssuerDep
from users.login import IncorrectCredentialsError, LockedOutError, authenticated
from users.schemas import Jwks, RefreshTokenIn, Token, UserCreate, UserOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

EMAIL_TAKEN = "Email already registered"
INCORRECT_CREDENTIALS = "Incorrect email or password"
INVALID_REFRESH_TOKEN = "Invalid refresh token"  # noqa: S105 (an error message)


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses={**MALFORMED_BODY, 409: {"description": EMAIL_TAKEN}},
)
async def register(body: UserCreate, db: DatabaseDep, hasher: HasherDep) -> UserOut:
    user = await repository.create_user(
        db,
        email=body.email,
        hashed_password=await hasher.hash(body.password),
        full_name=body.full_name,
    )
    if user is None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=EMAIL_TAKEN)
    return UserOut.model_validate(user)


@router.post(
    "/token",
    responses={**error_response(401, INCORRECT_CREDENTIALS), **LOCKED_OUT},
)
async def login(
    # STORABLE: a NUL cannot reach the database, where it would be an error, not a 4xx.
    username: Annotated[str, Form(min_length=1, max_length=320, description="The email"), STORABLE],
    password: Annotated[str, Form(min_length=1, max_length=1024)],
    db: DatabaseDep,
    hasher: HasherDep,
    lockout: LockoutPolicyDep,
    policy: SessionPolicyDep,
    issuer: TokenIssuerDep,
) -> Token:
    """OAuth2 password flow: form fields ``username`` (the email) and ``password``.

    Starts a session: the answer holds a refresh token next to the access token.
    """
    checked = authenticated(db, hasher, lockout, email=username, password=password)
    try:
        async with checked as (tx, user):
            session = await sessions.start(tx, policy, user)
    except LockedOutError as error:
        raise locked_out(error) from None
    except IncorrectCredentialsError:
        raise unauthorized(INCORRECT_CREDENTIALS) from None
    return issuer.issue(session)


@router.post(
    "/refresh",
    responses={**MALFORMED_BODY, **error_response(401, INVALID_REFRESH_TOKEN)},
)
async def refresh(
    body: RefreshTokenIn, db: DatabaseDep, policy: SessionPolicyDep, issuer: TokenIssuerDep
) -> Token:
    """Spend a refresh token for a new pair of tokens.

    Presenting a spent token again revokes every token of its login.
    """
    try:
        session = await sessions.refresh(db, policy, body.refresh_token)
    except sessions.InvalidRefreshTokenError:
        raise unauthorized(INVALID_REFRESH_TOKEN) from None
    return issuer.issue(session)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=MALFORMED_BODY)
async def logout(body: RefreshTokenIn, db: DatabaseDep) -> None:
    """Revoke every refresh token of the login; the same answer for an unknown token.

    Access tokens already issued stay valid until they expire.
    """
    await sessions.end(db, body.refresh_token)


@router.get("/jwks")
async def jwks(issuer: TokenIssuerDep) -> Jwks:
    return Jwks.model_validate(issuer.keys.jwks())
