from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from items.schemas import ItemCreate, ItemOut, ItemPatch, ItemReplace

MAX_PRICE = 2**63 - 1


def error_of(model: type[BaseModel], data: dict[str, Any]) -> ErrorDetails:
    """The one validation error of ``data``."""
    with pytest.raises(ValidationError) as raised:
        model.model_validate(data)
    errors = raised.value.errors()
    assert len(errors) == 1
    return errors[0]


def test_an_item_needs_only_name_and_price() -> None:
    item = ItemCreate.model_validate({"name": "Lamp", "price": 0})

    assert item.model_dump() == {"name": "Lamp", "description": None, "price": 0}


@pytest.mark.parametrize("price", [0, 1, MAX_PRICE])
def test_prices_from_0_to_2_63_minus_1_are_accepted(price: int) -> None:
    assert ItemCreate.model_validate({"name": "Lamp", "price": price}).price == price


@pytest.mark.parametrize(
    ("price", "error_type"),
    [
        (-1, "greater_than_equal"),
        (MAX_PRICE + 1, "less_than_equal"),
        (10.5, "int_type"),
        (10.0, "int_type"),
        ("12", "int_type"),
        (True, "int_type"),
        (None, "int_type"),
    ],
)
def test_other_prices_are_refused(price: object, error_type: str) -> None:
    error = error_of(ItemCreate, {"name": "Lamp", "price": price})

    assert (error["loc"], error["type"]) == (("price",), error_type)


@pytest.mark.parametrize("name", ["", "x" * 201, "NUL\x00", "\ud800"])
def test_bad_names_are_refused(name: str) -> None:
    assert error_of(ItemCreate, {"name": name, "price": 1})["loc"] == ("name",)


def test_a_name_counts_characters_not_bytes() -> None:
    assert ItemCreate.model_validate({"name": "é" * 200, "price": 1}).name == "é" * 200


def test_names_are_kept_verbatim() -> None:
    assert ItemCreate.model_validate({"name": "  Lamp  ", "price": 1}).name == "  Lamp  "


def test_a_description_longer_than_2000_is_refused() -> None:
    error = error_of(ItemCreate, {"name": "Lamp", "price": 1, "description": "d" * 2001})

    assert (error["loc"], error["type"]) == (("description",), "string_too_long")


@pytest.mark.parametrize("field", ["owner_id", "id", "created_at", "prcie"])
def test_unknown_fields_are_refused(field: str) -> None:
    error = error_of(ItemCreate, {"name": "Lamp", "price": 1, field: 2})

    assert (error["loc"], error["type"]) == ((field,), "extra_forbidden")


def test_a_replacement_without_description_clears_it() -> None:
    replacement = ItemReplace.model_validate({"name": "Lamp", "price": 1})

    assert replacement.model_dump()["description"] is None


def test_a_patch_carries_only_the_fields_sent() -> None:
    patch = ItemPatch.model_validate({"price": 5})

    assert patch.model_dump(exclude_unset=True) == {"price": 5}


def test_an_empty_patch_is_valid_and_changes_nothing() -> None:
    assert ItemPatch.model_validate({}).model_dump(exclude_unset=True) == {}


def test_a_patch_may_null_the_description() -> None:
    patch = ItemPatch.model_validate({"description": None})

    assert patch.model_dump(exclude_unset=True) == {"description": None}


@pytest.mark.parametrize("field", ["name", "price"])
def test_a_patch_may_not_null_name_or_price(field: str) -> None:
    error = error_of(ItemPatch, {field: None})

    assert (error["loc"], error["type"]) == ((field,), "value_error")


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"name": ""}, ("name",)),
        ({"price": -1}, ("price",)),
        ({"price": 1.5}, ("price",)),
        ({"owner_id": 3}, ("owner_id",)),
    ],
)
def test_a_patch_validates_the_fields_it_carries(data: dict[str, Any], loc: tuple[str]) -> None:
    assert error_of(ItemPatch, data)["loc"] == loc


def test_the_patch_schema_shows_name_and_price_as_never_null() -> None:
    properties = ItemPatch.model_json_schema()["properties"]

    assert properties["name"]["type"] == "string"
    assert properties["price"]["type"] == "integer"
    assert {"type": "null"} in properties["description"]["anyOf"]


def test_timestamps_go_out_in_utc() -> None:
    plus_two = datetime(2030, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    item = ItemOut(
        id=1,
        name="Lamp",
        description=None,
        price=1,
        owner_id=1,
        created_at=plus_two,
        updated_at=plus_two,
    )

    assert item.model_dump(mode="json")["created_at"] == "2030-01-01T12:00:00Z"
