"""Sessions through the gateway: refresh rotation, reuse detection, logout, password change."""

from typing import Any

import httpx

from tests_e2e.conftest import PASSWORD, register, token_response, unique_email

INVALID = {"detail": "Invalid refresh token"}


def start_session(api: httpx.Client, password: str = PASSWORD) -> tuple[str, dict[str, Any]]:
    """Register a new user and log in; the email and the whole token response."""
    email = unique_email("session")
    register(api, email, password)
    return email, token_response(api, email, password)


def refresh(api: httpx.Client, refresh_token: str) -> httpx.Response:
    return api.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_login_returns_a_refresh_token_next_to_a_short_access_token(api: httpx.Client) -> None:
    _, tokens = start_session(api)

    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 15 * 60
    assert tokens["refresh_expires_in"] == 14 * 24 * 60 * 60
    assert len(tokens["refresh_token"]) >= 43


def test_refresh_twice_then_reusing_the_first_token_revokes_everything(
    api: httpx.Client,
) -> None:
    email, first = start_session(api)

    second = refresh(api, first["refresh_token"])
    third = refresh(api, second.json()["refresh_token"])
    reuse = refresh(api, first["refresh_token"])
    after_reuse = refresh(api, third.json()["refresh_token"])

    assert (second.status_code, third.status_code) == (200, 200)
    me = api.get("/api/v1/users/me", headers=bearer(third.json()))
    assert me.json()["email"] == email
    assert reuse.status_code == 401
    assert reuse.json() == INVALID
    assert after_reuse.status_code == 401
    assert after_reuse.json() == INVALID


def test_logout_ends_the_session(api: httpx.Client) -> None:
    _, tokens = start_session(api)
    refreshed = refresh(api, tokens["refresh_token"]).json()

    logout = api.post("/api/v1/auth/logout", json={"refresh_token": refreshed["refresh_token"]})
    again = api.post("/api/v1/auth/logout", json={"refresh_token": refreshed["refresh_token"]})

    assert logout.status_code == 204
    assert logout.content == b""
    assert again.status_code == 204
    assert refresh(api, refreshed["refresh_token"]).status_code == 401


def test_a_password_change_revokes_every_session(api: httpx.Client) -> None:
    email, phone = start_session(api)
    laptop = token_response(api, email)

    wrong = api.patch(
        "/api/v1/users/me",
        json={"password": "a new e2e password", "current_password": "not it"},
        headers=bearer(phone),
    )
    changed = api.patch(
        "/api/v1/users/me",
        json={"password": "a new e2e password", "current_password": PASSWORD},
        headers=bearer(phone),
    )

    assert wrong.status_code == 403
    assert wrong.json() == {"detail": "Current password is incorrect"}
    assert changed.status_code == 200
    assert refresh(api, phone["refresh_token"]).status_code == 401
    assert refresh(api, laptop["refresh_token"]).status_code == 401
    relogin = api.post(
        "/api/v1/auth/token", data={"username": email, "password": "a new e2e password"}
    )
    assert relogin.status_code == 200


def test_a_new_password_without_the_current_one_is_422(api: httpx.Client) -> None:
    _, tokens = start_session(api)

    response = api.patch(
        "/api/v1/users/me", json={"password": "a new e2e password"}, headers=bearer(tokens)
    )

    assert response.status_code == 422
