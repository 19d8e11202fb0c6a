"""Dependencies of the users routes: the service's components and the calling user."""

from typing import Annotated

from fastapi import Depends, Request

from flotilla.auth import INVALID_CREDENTIALS, CurrentPrincipal, forbidden, unauthorized
from flotilla.db import DatabaseDep
from users import repository
from users.login import LockoutPolicy
from users.passwords import PasswordHasher
from users.repository import UserRecord
from users.sessions import SessionPolicy
from users.tokens import TokenIssuer


async def get_hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.password_hasher
    return hasher


async def get_token_issuer(request: Request) -> TokenIssuer:
    issuer: TokenIssuer = request.app.state.token_issuer
    return issuer


async def get_lockout_policy(request: Request) -> LockoutPolicy:
    policy: LockoutPolicy = request.app.state.lockout_policy
    return policy


async def get_session_policy(request: Request) -> SessionPolicy:
    policy: SessionPolicy = request.app.state.session_policy
    return policy


HasherDep = Annotated[PasswordHasher, Depends(get_hasher)]
TokenIssuerDep = Annotated[TokenIssuer, Depends(get_token_issuer)]
LockoutPolicyDep = Annotated[LockoutPolicy, Depends(get_lockout_policy)]
SessionPolicyDep = Annotated[SessionPolicy, Depends(get_session_policy)]


async def get_current_user(principal: CurrentPrincipal, db: DatabaseDep) -> UserRecord:
    """The token's user, who must still exist and be active."""
    user = await repository.get_user(db, principal.user_id)
    if user is None or not user.is_active:
        raise unauthorized(INVALID_CREDENTIALS)
    return user


CurrentUser = Annotated[UserRecord, Depends(get_current_user)]


async def get_current_admin(user: CurrentUser) -> UserRecord:
    if not user.is_admin:
        raise forbidden()
    return user


CurrentAdmin = Annotated[UserRecord, Depends(get_current_admin)]
