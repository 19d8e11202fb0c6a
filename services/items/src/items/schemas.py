"""Request and response bodies of the items API.

Validation rules (also visible in the OpenAPI schema):

- Unknown fields are refused (``422``, type ``extra_forbidden``), so a typo such
  as ``"prcie"`` or an attempt to set ``owner_id`` or ``id`` never passes silently.
- ``price`` is a JSON integer of cents, ``0..2^63-1``: no floats (not even
  ``10.0``), no numeric strings, no booleans.
- ``name`` is 1..200 characters, ``description`` at most 2000 or ``null``;
  both are stored verbatim (no trimming), but may not contain NUL characters
  or lone surrogates, which no Postgres text column can hold.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from flotilla.validation import STORABLE
from items.models import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH, PRICE_MAX

#: What ``q`` searches for: no name is longer, so no longer text could match.
SearchText = Annotated[str, StringConstraints(max_length=NAME_MAX_LENGTH), STORABLE]

Name = Annotated[
    str,
    Field(min_length=1, max_length=NAME_MAX_LENGTH, examples=["Espresso cup"]),
    STORABLE,
]
Description = Annotated[
    str,
    Field(max_length=DESCRIPTION_MAX_LENGTH, examples=["Porcelain, 80 ml"]),
    STORABLE,
]
Price = Annotated[
    int,
    Field(
        strict=True,
        ge=0,
        le=PRICE_MAX,
        # Spelled out: OpenAPI tooling renders ``maximum`` as a float (9.223372036854776e18).
        description="Integer number of cents, 0 to 9223372036854775807 (2^63-1); "
        "floats, numeric strings and booleans are refused.",
        examples=[1250],
    ),
]


def _in_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_in_utc)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemCreate(_Input):
    """A new item; its owner is the caller."""

    name: Name
    description: Description | None = None
    price: Price


class ItemReplace(ItemCreate):
    """The whole item (PUT): an omitted ``description`` becomes ``null``."""


def _never_null_in_schema(schema: dict[str, Any]) -> None:
    """Show ``name`` and ``price`` as optional but not nullable, as validated."""
    for field in ItemPatch.NEVER_NULL:
        spec = schema["properties"][field]
        spec.update(next(s for s in spec.pop("anyOf") if s.get("type") != "null"))
        spec.pop("default", None)


class ItemPatch(_Input):
    """Any subset of the fields (PATCH); omitted fields keep their value.

    ``description`` may be ``null`` (clears it); ``name`` and ``price`` may be
    omitted but not ``null``.
    """

    model_config = ConfigDict(json_schema_extra=_never_null_in_schema)
    NEVER_NULL: ClassVar[tuple[str, ...]] = ("name", "price")

    name: Name | None = None
    description: Description | None = None
    price: Price | None = None

    @field_validator(*NEVER_NULL)
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs for explicit values only: an omitted field keeps its default.
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    price: int
    owner_id: int
    created_at: UtcDatetime
    updated_at: UtcDatetime
