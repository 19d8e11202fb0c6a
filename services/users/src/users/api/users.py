"""The users resource: one's own profile, and the admin's view of everybody."""

from fastapi import APIRouter, HTTPException, status

from flotilla.auth import forbidden
from flotilla.db import DatabaseDep, ResourceId
from flotilla.pagination import Page, PageParamsDep
from flotilla.responses import MALFORMED_BODY, UNAUTHORIZED, error_response
from users import repository, sessions
from users.api.errors import LOCKED_OUT, locked_out
from users.deps import CurrentAdmin, CurrentUser, HasherDep, LockoutPolicyDep
from users.login import IncorrectCredentialsError, LockedOutError, authenticated
from users.schemas import UserOut, UserUpdate

router = APIRouter(prefix="/api/v1/users", tags=["users"])

USER_NOT_FOUND = "User not found"
CURRENT_PASSWORD_INCORRECT = "Current password is incorrect"  # noqa: S105 (an error message)


@router.get("/me", responses=UNAUTHORIZED)
async def read_me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


@router.patch(
    "/me",
    responses={
        **UNAUTHORIZED,
        **MALFORMED_BODY,
        **error_response(403, CURRENT_PASSWORD_INCORRECT),
        **LOCKED_OUT,
    },
)
async def update_me(
    body: UserUpdate,
    user: CurrentUser,
    db: DatabaseDep,
    hasher: HasherDep,
    lockout: LockoutPolicyDep,
) -> UserOut:
    """Change ``full_name`` and/or ``password``; an omitted field is left as it is.

    A new ``password`` needs ``current_password``, checked like a login (a wrong
    one counts towards the lockout), and ends every session of the user.
    """
    changes: dict[str, object] = {}
    if "full_name" in body.model_fields_set:
        changes["full_name"] = body.full_name
    # The schema makes a password come with current_password.
    if body.password is None or body.current_password is None:
        updated = await repository.update_user(db, user.id, changes)
        return UserOut.model_validate(updated or user)
    # Hashed before the check below holds a connection and the email's lock, as a login does.
    changes["hashed_password"] = await hasher.hash(body.password)
    checked = authenticated(db, hasher, lockout, email=user.email, password=body.current_password)
    try:
        # In the transaction that checked the current password, which holds the
        # email's login lock: a login racing the change ends before it (and its
        # session is revoked here) or starts after it (and needs the new password).
        async with checked as (tx, _):
            updated = await repository.update_user(tx, user.id, changes)
            await sessions.revoke_all(tx, user.id)
    except LockedOutError as error:
        raise locked_out(error) from None
    except IncorrectCredentialsError:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=CURRENT_PASSWORD_INCORRECT) from None
    return UserOut.model_validate(updated or user)


@router.get("/", responses={**UNAUTHORIZED, 403: {"description": "Not an admin"}})
@router.get("", include_in_schema=False)
async def list_users(admin: CurrentAdmin, db: DatabaseDep, page: PageParamsDep) -> Page[UserOut]:
    users, total = await repository.list_users(db, page)
    return Page[UserOut](
        items=[UserOut.model_validate(u) for u in users],
        total=total,
        skip=page.skip,
        limit=page.limit,
    )


@router.get(
    "/{user_id}",
    responses={
        **UNAUTHORIZED,
        403: {"description": "Neither admin nor that user"},
        **error_response(404, USER_NOT_FOUND),
    },
)
async def read_user(user_id: ResourceId, caller: CurrentUser, db: DatabaseDep) -> UserOut:
    if caller.id == user_id:
        return UserOut.model_validate(caller)
    if not caller.is_admin:
        raise forbidden()
    user = await repository.get_user(db, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=USER_NOT_FOUND)
    return UserOut.model_validate(user)
