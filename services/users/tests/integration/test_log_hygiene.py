"""Passwords, tokens and keys never reach the logs."""

import httpx
import pytest

from flotilla.logging import configure_logging

from ..conftest import PASSWORD, login, register


async def test_a_login_journey_logs_no_password_token_or_key(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str], signing_key_pem: str
) -> None:
    configure_logging("users")  # bind the JSON handler to the captured stdout
    await register(client, "ada@example.com")
    await login(client, "ada@example.com", "a wrong password")
    token = (await login(client, "ada@example.com")).json()["access_token"]
    await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    await client.get("/api/v1/users/me", headers={"Authorization": "Bearer forged.token.value"})

    output = capsys.readouterr().out

    assert '"route": "/api/v1/auth/token"' in output  # the requests were logged
    for secret in (PASSWORD, "a wrong password", token, "forged.token.value"):
        assert secret not in output
    assert signing_key_pem.splitlines()[1] not in output
