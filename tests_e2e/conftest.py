import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests_e2e.stack import Stack, stack_under_test

PASSWORD = "e2e password 123"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that take part of the stack down run last."""
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "disruptive: takes part of the stack down; runs last")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with stack_under_test() as running:
        yield running


@pytest.fixture
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as client:
        yield client


def unique_email(label: str = "user") -> str:
    """Fresh per call, so the suite can run again and again against one stack."""
    return f"{label}-{uuid.uuid4().hex[:12]}@e2e.example.com"


def sign_up(api: httpx.Client, email: str | None = None) -> tuple[str, dict[str, str]]:
    """Register and log in a new user; returns the email and its auth header."""
    email = email or unique_email()
    register(api, email)
    return email, log_in(api, email, PASSWORD)


def register(api: httpx.Client, email: str, password: str = PASSWORD) -> None:
    registered = api.post("/api/v1/auth/register", json={"email": email, "password": password})
    assert registered.status_code == 201, registered.text


def token_response(api: httpx.Client, email: str, password: str = PASSWORD) -> dict[str, Any]:
    """A login's whole answer: access and refresh tokens, their lifetimes."""
    response = api.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def log_in(api: httpx.Client, email: str, password: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_response(api, email, password)['access_token']}"}
