"""The items resource: anyone reads, users create, owners (or admins) change.

Checks run in this order: authentication (``401``), the item exists (``404``),
the caller may change it (``403``), then the body (``422``). Items are public
to read, so answering ``404`` before ``403`` reveals nothing.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from flotilla.auth import CurrentPrincipal, forbidden
from flotilla.db import DatabaseDep, ResourceId
from flotilla.pagination import Page, PageParamsDep
from flotilla.responses import MALFORMED_BODY, UNAUTHORIZED, error_response
from items import repository
from items.repository import ItemRecord
from items.schemas import ItemCreate, ItemOut, ItemPatch, ItemReplace, SearchText

router = APIRouter(prefix="/api/v1/items", tags=["items"])

ITEM_NOT_FOUND = "Item not found"

NOT_FOUND = error_response(404, "No item with this id")
CHANGE_ERRORS = {
    **UNAUTHORIZED,
    **error_response(403, "Neither the owner nor an admin"),
    **NOT_FOUND,
}

SearchQuery = Annotated[
    SearchText | None,
    Query(description="Case-insensitive substring of the name; `%`, `_` and `\\` match literally"),
]
OwnerFilter = Annotated[
    int | None, Query(ge=-(2**63), le=2**63 - 1, description="Only items of this owner")
]


ItemPage = Page[ItemOut]


def item_not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=ITEM_NOT_FOUND)


async def get_existing_item(item_id: ResourceId, db: DatabaseDep) -> ItemRecord:
    item = await repository.get_item(db, item_id)
    if item is None:
        raise item_not_found()
    return item


ExistingItem = Annotated[ItemRecord, Depends(get_existing_item)]


async def get_changeable_item(principal: CurrentPrincipal, item: ExistingItem) -> ItemRecord:
    """The item, if the caller owns it or is an admin (authenticated before the lookup)."""
    if item.owner_id != principal.user_id and not principal.is_admin:
        raise forbidden()
    return item


ChangeableItem = Annotated[ItemRecord, Depends(get_changeable_item)]


def item_out(item: ItemRecord) -> ItemOut:
    return ItemOut.model_validate(item)


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    responses={**UNAUTHORIZED, **MALFORMED_BODY},
    response_description="The new item; `Location` is its URL",
)
@router.post("", status_code=status.HTTP_201_CREATED, include_in_schema=False)
async def create_item(
    principal: CurrentPrincipal, body: ItemCreate, db: DatabaseDep, response: Response
) -> ItemOut:
    """Create an item owned by the caller."""
    item = await repository.create_item(db, **body.model_dump(), owner_id=principal.user_id)
    response.headers["Location"] = f"{router.prefix}/{item.id}"
    return item_out(item)


@router.get("/")
@router.get("", include_in_schema=False)
async def list_items(
    db: DatabaseDep, page: PageParamsDep, q: SearchQuery = None, owner_id: OwnerFilter = None
) -> ItemPage:
    """A page of items ordered by id, optionally filtered by name and owner."""
    found, total = await repository.list_items(db, page, q=q, owner_id=owner_id)
    return ItemPage(
        items=[item_out(item) for item in found], total=total, skip=page.skip, limit=page.limit
    )


@router.get("/{item_id}", responses=NOT_FOUND)
async def read_item(item: ExistingItem) -> ItemOut:
    return item_out(item)


@router.put("/{item_id}", responses={**CHANGE_ERRORS, **MALFORMED_BODY})
async def replace_item(item: ChangeableItem, body: ItemReplace, db: DatabaseDep) -> ItemOut:
    """Replace name, description and price; an omitted description becomes null."""
    updated = await repository.update_item(db, item.id, body.model_dump())
    if updated is None:  # deleted since we looked it up
        raise item_not_found()
    return item_out(updated)


@router.patch("/{item_id}", responses={**CHANGE_ERRORS, **MALFORMED_BODY})
async def patch_item(item: ChangeableItem, body: ItemPatch, db: DatabaseDep) -> ItemOut:
    """Change only the fields present in the body; an empty body changes nothing."""
    updated = await repository.update_item(db, item.id, body.model_dump(exclude_unset=True))
    if updated is None:
        raise item_not_found()
    return item_out(updated)


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CHANGE_ERRORS)
async def delete_item(item: ChangeableItem, db: DatabaseDep) -> None:
    if not await repository.delete_item(db, item.id):
        raise item_not_found()
