"""GET /api/v1/items/: anyone lists; pages ordered by id; search by name; filter by owner."""

from typing import Any

import httpx
import pytest

from ..conftest import OTHER_USER_ID, OWNER_ID, AddItem

URL = "/api/v1/items/"


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["items"]]


async def test_an_empty_collection_is_an_empty_page(client: httpx.AsyncClient) -> None:
    response = await client.get(URL)

    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "skip": 0, "limit": 10}


async def test_anyone_lists_items_ordered_by_id(
    client: httpx.AsyncClient, add_item: AddItem
) -> None:
    ids = [await add_item(name) for name in ("b", "a", "c")]

    response = await client.get(URL)

    assert response.status_code == 200
    page = response.json()
    assert [item["id"] for item in page["items"]] == sorted(ids)
    assert names(page) == ["b", "a", "c"]
    assert page["total"] == 3


async def test_the_page_holds_full_items(client: httpx.AsyncClient, add_item: AddItem) -> None:
    item_id = await add_item("Kettle", price=2500, description="Steel")

    response = await client.get(URL)

    assert response.json()["items"] == [(await client.get(f"{URL}{item_id}")).json()]


async def test_skip_and_limit_select_a_page_and_total_counts_all(
    client: httpx.AsyncClient, add_item: AddItem
) -> None:
    for index in range(15):
        await add_item(f"item {index:02}")

    response = await client.get(URL, params={"skip": 10, "limit": 3})

    page = response.json()
    assert names(page) == ["item 10", "item 11", "item 12"]
    assert (page["total"], page["skip"], page["limit"]) == (15, 10, 3)


async def test_the_default_page_is_the_first_ten(
    client: httpx.AsyncClient, add_item: AddItem
) -> None:
    for index in range(12):
        await add_item(f"item {index:02}")

    page = (await client.get(URL)).json()

    assert names(page) == [f"item {index:02}" for index in range(10)]
    assert page["total"] == 12


@pytest.mark.parametrize("limit", [1, 100])
async def test_limit_accepts_1_to_100(
    client: httpx.AsyncClient, add_item: AddItem, limit: int
) -> None:
    for index in range(101):
        await add_item(f"item {index}")

    response = await client.get(URL, params={"limit": limit})

    assert response.status_code == 200
    assert len(response.json()["items"]) == limit


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        pytest.param({"limit": 0}, ["query", "limit"], id="limit-0"),
        pytest.param({"limit": 101}, ["query", "limit"], id="limit-101"),
        pytest.param({"limit": -1}, ["query", "limit"], id="limit-negative"),
        pytest.param({"limit": "ten"}, ["query", "limit"], id="limit-text"),
        pytest.param({"skip": -1}, ["query", "skip"], id="skip-negative"),
        pytest.param({"skip": 1.5}, ["query", "skip"], id="skip-fraction"),
        pytest.param({"skip": 2**63}, ["query", "skip"], id="skip-beyond-64-bit"),
        pytest.param({"owner_id": "me"}, ["query", "owner_id"], id="owner-text"),
        pytest.param({"owner_id": 2**63}, ["query", "owner_id"], id="owner-beyond-64-bit"),
        pytest.param({"q": "x" * 201}, ["query", "q"], id="q-longer-than-a-name"),
        pytest.param({"q": "a\x00b"}, ["query", "q"], id="q-with-nul"),
    ],
)
async def test_out_of_range_parameters_are_422(
    client: httpx.AsyncClient, params: dict[str, Any], loc: list[str]
) -> None:
    response = await client.get(URL, params=params)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


async def test_a_huge_skip_is_an_empty_page_with_the_total(
    client: httpx.AsyncClient, add_item: AddItem
) -> None:
    await add_item()

    response = await client.get(URL, params={"skip": 2**63 - 1})

    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 1, "skip": 2**63 - 1, "limit": 10}


async def test_q_matches_a_substring_of_the_name_case_insensitively(
    client: httpx.AsyncClient, add_item: AddItem
) -> None:
    for name in ("Red Lamp", "lamp shade", "LAMPPOST", "Table"):
        await add_item(name)

    page = (await client.get(URL, params={"q": "lAmP"})).json()

    assert names(page) == ["Red Lamp", "lamp shade", "LAMPPOST"]
    assert page["total"] == 3


async def test_q_matches_non_ascii_letters_case_insensitively(
    client: httpx.AsyncClient, add_item: AddItem
) -> None:
    for name in ("Äpfel", "Crème brûlée", "お茶"):
        await add_item(name)

    assert names((await client.get(URL, params={"q": "äPFEL"})).json()) == ["Äpfel"]
    assert names((await client.get(URL, params={"q": "BRÛL"})).json()) == ["Crème brûlée"]
    assert names((await client.get(URL, params={"q": "茶"})).json()) == ["お茶"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        pytest.param("50%", ["50% off"], id="percent"),
        pytest.param("%", ["50% off"], id="percent-alone"),
        pytest.param("a_b", ["a_b"], id="underscore"),
        pytest.param("_", ["a_b"], id="underscore-alone"),
        pytest.param("\\", ["back\\slash"], id="backslash"),
        pytest.param("k\\s", ["back\\slash"], id="backslash-inside"),
        pytest.param("\\%", [], id="backslash-percent"),
    ],
)
async def test_like_wildcards_in_q_match_literally(
    client: httpx.AsyncClient, add_item: AddItem, q: str, expected: list[str]
) -> None:
    for name in ("50% off", "500 off", "a_b", "axb", "back\\slash", "backslash"):
        await add_item(name)

    response = await client.get(URL, params={"q": q})

    assert response.status_code == 200
    assert names(response.json()) == expected
    assert response.json()["total"] == len(expected)


@pytest.mark.parametrize("q", ["' OR '1'='1", "x'; DROP TABLE items; --", "%' OR 1=1 --"])
async def test_sql_looking_q_is_just_text(
    client: httpx.AsyncClient, add_item: AddItem, q: str
) -> None:
    await add_item("Lamp")

    response = await client.get(URL, params={"q": q})

    assert response.status_code == 200
    assert response.json()["total"] == 0
    assert (await client.get(URL)).json()["total"] == 1


async def test_an_empty_q_matches_everything(client: httpx.AsyncClient, add_item: AddItem) -> None:
    await add_item("Lamp")
    await add_item("Table")

    assert (await client.get(URL, params={"q": ""})).json()["total"] == 2


async def test_owner_id_filters_items_by_owner(
    client: httpx.AsyncClient, add_item: AddItem
) -> None:
    await add_item("mine", owner_id=OWNER_ID)
    await add_item("theirs", owner_id=OTHER_USER_ID)
    await add_item("mine too", owner_id=OWNER_ID)

    page = (await client.get(URL, params={"owner_id": OWNER_ID})).json()

    assert names(page) == ["mine", "mine too"]
    assert page["total"] == 2


async def test_q_and_owner_id_combine(client: httpx.AsyncClient, add_item: AddItem) -> None:
    await add_item("red lamp", owner_id=OWNER_ID)
    await add_item("red lamp", owner_id=OTHER_USER_ID)
    await add_item("blue lamp", owner_id=OTHER_USER_ID)

    page = (await client.get(URL, params={"owner_id": OTHER_USER_ID, "q": "red"})).json()

    assert [(item["name"], item["owner_id"]) for item in page["items"]] == [
        ("red lamp", OTHER_USER_ID)
    ]
    assert page["total"] == 1


async def test_an_owner_without_items_gets_an_empty_page(
    client: httpx.AsyncClient, add_item: AddItem
) -> None:
    await add_item(owner_id=OWNER_ID)

    page = (await client.get(URL, params={"owner_id": 12345})).json()

    assert page == {"items": [], "total": 0, "skip": 0, "limit": 10}
