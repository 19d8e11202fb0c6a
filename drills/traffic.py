"""Async HTTP traffic for the chaos and soak runs: timed requests, users, percentiles."""

import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "traffic password 123"
#: What a request that got no HTTP answer at all is counted as.
NO_RESPONSE = 0


@dataclass(frozen=True)
class Sample:
    """One request: its status (:data:`NO_RESPONSE` if none came) and how long it took."""

    status: int
    seconds: float
    started: float
    body: Any = None


async def timed(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> Sample:
    """Send one request; never raises for transport errors (they become :data:`NO_RESPONSE`)."""
    started = time.monotonic()
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError:
        return Sample(NO_RESPONSE, time.monotonic() - started, started)
    seconds = time.monotonic() - started
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = response.text
    return Sample(response.status_code, seconds, started, body)


def unique_email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}@traffic.example.com"


async def sign_up(client: httpx.AsyncClient, label: str) -> dict[str, str]:
    """Register and log in a new user through the gateway; returns its auth header."""
    email = unique_email(label)
    registered = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
    )
    registered.raise_for_status()
    return await log_in(client, email, PASSWORD)


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": password}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
