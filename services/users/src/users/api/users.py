"""The users resource: one's own profile, and the admin's view of everybody."""

from fastapi import APIRouter, HTTPException, status

from flotilla.auth import forbidden
from flotilla.db import DatabaseDep, ResourceId
from flotilla.pagination import Page, PageParamsDep
from flotilla.responses import MALFORMED_BODY, UNAUTHORIZED, error_response
from users import repository
from users.deps import CurrentAdmin, CurrentUser, HasherDep
from users.schemas import UserOut, UserUpdate

router = APIRouter(prefix="/api/v1/users", tags=["users"])

USER_NOT_FOUND = "User not found"


@router.get("/me", responses=UNAUTHORIZED)
async def read_me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


@router.patch("/me", responses={**UNAUTHORIZED, **MALFORMED_BODY})
async def update_me(
    body: UserUpdate, user: CurrentUser, db: DatabaseDep, hasher: HasherDep
) -> UserOut:
    """Change ``full_name`` and/or ``password``; an omitted field is left as it is."""
    changes: dict[str, object] = {}
    if "full_name" in body.model_fields_set:
        changes["full_name"] = body.full_name
    if body.password is not None:
        changes["hashed_password"] = await hasher.hash(body.password)
    updated = await repository.update_user(db, user.id, changes)
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
