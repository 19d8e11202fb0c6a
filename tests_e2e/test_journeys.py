"""A user's whole journey through the public API, via the gateway only."""

import uuid

import httpx

from tests_e2e.conftest import PASSWORD, log_in, sign_up, unique_email
from tests_e2e.stack import Stack


def test_register_login_and_read_my_profile(api: httpx.Client) -> None:
    email = unique_email()

    registered = api.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "full_name": "E2E Person"},
    )
    me = api.get("/api/v1/users/me", headers=log_in(api, email, PASSWORD))

    assert registered.status_code == 201
    assert me.status_code == 200
    assert me.json() == registered.json()


def test_an_item_lives_through_create_list_search_read_update_delete(api: httpx.Client) -> None:
    _, auth = sign_up(api)
    me = api.get("/api/v1/users/me", headers=auth).json()
    marker = uuid.uuid4().hex[:10]

    created = api.post(
        "/api/v1/items/",
        json={"name": f"Lamp {marker}", "description": "bright", "price": 1999},
        headers=auth,
    )
    item = created.json()
    listed = api.get("/api/v1/items", params={"owner_id": me["id"]})
    found = api.get("/api/v1/items/", params={"q": marker.upper()})
    read = api.get(f"/api/v1/items/{item['id']}")
    patched = api.patch(f"/api/v1/items/{item['id']}", json={"price": 2499}, headers=auth)
    replaced = api.put(
        f"/api/v1/items/{item['id']}",
        json={"name": f"Desk lamp {marker}", "price": 2999},
        headers=auth,
    )
    deleted = api.delete(f"/api/v1/items/{item['id']}", headers=auth)
    gone = api.get(f"/api/v1/items/{item['id']}")

    assert created.status_code == 201
    assert created.headers["Location"] == f"/api/v1/items/{item['id']}"
    assert item["owner_id"] == me["id"]
    assert [i["id"] for i in listed.json()["items"]] == [item["id"]]
    assert [i["id"] for i in found.json()["items"]] == [item["id"]]
    assert read.json() == item
    assert patched.json()["price"] == 2499
    assert replaced.json()["name"] == f"Desk lamp {marker}"
    assert replaced.json()["description"] is None
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert gone.status_code == 404
    assert gone.json() == {"detail": "Item not found"}


def test_another_user_cannot_change_my_item(api: httpx.Client) -> None:
    _, owner = sign_up(api)
    _, intruder = sign_up(api)
    item = api.post("/api/v1/items/", json={"name": "mine", "price": 1}, headers=owner).json()

    patched = api.patch(f"/api/v1/items/{item['id']}", json={"price": 0}, headers=intruder)
    deleted = api.delete(f"/api/v1/items/{item['id']}", headers=intruder)

    assert patched.status_code == 403
    assert patched.json() == {"detail": "Not enough permissions"}
    assert deleted.status_code == 403
    assert api.get(f"/api/v1/items/{item['id']}").json()["price"] == 1


def test_the_admin_lists_users_and_a_user_may_not(api: httpx.Client, stack: Stack) -> None:
    _, user = sign_up(api)
    admin = log_in(api, stack.admin_email, stack.admin_password)

    as_admin = api.get("/api/v1/users", params={"limit": 100}, headers=admin)
    as_user = api.get("/api/v1/users/", headers=user)

    assert as_admin.status_code == 200
    assert as_admin.json()["total"] >= 2
    assert as_user.status_code == 403


def test_five_bad_passwords_lock_the_account(api: httpx.Client) -> None:
    email, _ = sign_up(api)
    bad = {"username": email, "password": "not the password"}
    failures = [api.post("/api/v1/auth/token", data=bad).status_code for _ in range(5)]

    locked = api.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})

    assert failures == [401] * 5
    assert locked.status_code == 429
    assert locked.json() == {"detail": "Too many failed login attempts"}
    assert int(locked.headers["Retry-After"]) > 0


def test_no_token_is_401_through_the_gateway(api: httpx.Client) -> None:
    response = api.post("/api/v1/items/", json={"name": "x", "price": 1})

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"
