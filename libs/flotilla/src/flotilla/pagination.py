"""The contract's pagination: ``skip``/``limit`` query parameters and the page envelope."""

from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from flotilla.validation import INT64_MAX

MAX_LIMIT = 100
#: OFFSET is a bigint in Postgres; anything larger must be a 422, not a database error.
MAX_SKIP = INT64_MAX


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    skip: int
    limit: int


@dataclass(frozen=True, slots=True)
class PageParams:
    skip: int
    limit: int


# async: FastAPI would run a plain ``def`` dependency in its thread pool, on every request.
async def page_params(
    skip: Annotated[int, Query(ge=0, le=MAX_SKIP, description="Items to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")] = 10,
) -> PageParams:
    return PageParams(skip=skip, limit=limit)


PageParamsDep = Annotated[PageParams, Depends(page_params)]
