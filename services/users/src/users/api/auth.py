"""Registration, login and the public keys that verify tokens."""

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, status

from flotilla.db import DatabaseDep
from flotilla.responses import MALFORMED_BODY
from flotilla.validation import STORABLE
from users import repository
from users.deps import HasherDep, LockoutPolicyDep, TokenIssuerDep
from users.login import IncorrectCredentialsError, LockedOutError, authenticate
from users.schemas import Jwks, Token, UserCreate, UserOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

EMAIL_TAKEN = "Email already registered"
INCORRECT_CREDENTIALS = "Incorrect email or password"
TOO_MANY_FAILURES = "Too many failed login attempts"


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
    responses={
        401: {"description": INCORRECT_CREDENTIALS},
        429: {"description": f"{TOO_MANY_FAILURES}; see Retry-After"},
    },
)
async def login(
    # STORABLE: a NUL cannot reach the database, where it would be an error, not a 4xx.
    username: Annotated[str, Form(min_length=1, max_length=320, description="The email"), STORABLE],
    password: Annotated[str, Form(min_length=1, max_length=1024)],
    db: DatabaseDep,
    hasher: HasherDep,
    policy: LockoutPolicyDep,
    issuer: TokenIssuerDep,
) -> Token:
    """OAuth2 password flow: form fields ``username`` (the email) and ``password``."""
    try:
        user = await authenticate(db, hasher, policy, email=username, password=password)
    except LockedOutError as error:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=TOO_MANY_FAILURES,
            headers={"Retry-After": str(error.retry_after_seconds)},
        ) from None
    except IncorrectCredentialsError:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=INCORRECT_CREDENTIALS,
            headers={"WWW-Authenticate": "Bearer"},
        ) from None
    return issuer.issue(user)


@router.get("/jwks")
async def jwks(issuer: TokenIssuerDep) -> Jwks:
    return Jwks.model_validate(issuer.keys.jwks())
