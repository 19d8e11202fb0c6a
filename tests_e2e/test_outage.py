"""One upstream down: its routes answer 502, the other service's keep working."""

import subprocess
import time

import httpx
import pytest

from tests_e2e.stack import Stack


@pytest.mark.disruptive
def test_items_down_is_502_while_users_keep_answering(api: httpx.Client, stack: Stack) -> None:
    if stack.stop_items_command is None:
        pytest.skip("set E2E_STOP_ITEMS to a command that stops the items service")
    subprocess.run(stack.stop_items_command, check=True)  # noqa: S603 (configured by the runner)

    items = api.get("/api/v1/items/")
    deadline = time.monotonic() + 15
    while items.status_code != 502 and time.monotonic() < deadline:  # items is shutting down
        time.sleep(0.2)
        items = api.get("/api/v1/items/")
    users = api.get("/api/v1/auth/jwks")

    assert items.status_code == 502
    assert items.json() == {"detail": "Bad gateway"}
    assert users.status_code == 200
