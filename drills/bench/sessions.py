"""What a session costs: a refresh next to a login, 20 clients at once.

Each of 20 clients is a user of its own and sends requests back to back for a
fixed time: first logins (Argon2 at the production cost, as every login), then
refreshes, each spending the refresh token the previous one returned, as a
real client does. The clients run in the benchmark's process (httpx), the
service in its own.
"""

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from drills.bench.harness import Service, say
from drills.bench.login_stall import PASSWORD

CLIENTS = 20


@dataclass(frozen=True)
class Latencies:
    samples_ms: list[float]
    #: Status code -> how many answers had it, but for 200.
    errors: Counter[int]
    seconds: float
    #: CPU the users process spent during the run.
    cpu_seconds: float

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p99_ms(self) -> float:
        return statistics.quantiles(self.samples_ms, n=100)[98]

    @property
    def per_second(self) -> float:
        return len(self.samples_ms) / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        """Steadier than latency on a shared machine: other jobs delay, they don't add CPU."""
        return self.cpu_seconds * 1000 / len(self.samples_ms)


@dataclass(frozen=True)
class SessionCost:
    login: Latencies
    refresh: Latencies


#: One request; returns the status code.
Step = Callable[[httpx.AsyncClient], Awaitable[int]]


async def _log_in(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})


async def _back_to_back(
    client: httpx.AsyncClient, step: Step, deadline: float, samples: list[float]
) -> Counter[int]:
    """Run ``step`` until ``deadline``; its latencies go to ``samples``; returns the failures."""
    errors: Counter[int] = Counter()
    while time.monotonic() < deadline:
        began = time.perf_counter()
        status = await step(client)
        samples.append((time.perf_counter() - began) * 1000)
        if status != 200:
            errors[status] += 1
    return errors


def _login_step(email: str) -> Step:
    async def step(client: httpx.AsyncClient) -> int:
        return (await _log_in(client, email)).status_code

    return step


async def _refresh_step(client: httpx.AsyncClient, email: str) -> Step:
    """Refreshes of one session, each with the token the previous one returned."""
    token = (await _log_in(client, email)).json()["refresh_token"]

    async def step(client: httpx.AsyncClient) -> int:
        nonlocal token
        response = await client.post("/api/v1/auth/refresh", json={"refresh_token": token})
        if response.status_code == 200:
            token = response.json()["refresh_token"]
        return response.status_code

    return step


async def _run(users: Service, steps: list[Step], seconds: float) -> Latencies:
    samples: list[float] = []
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=users.url, timeout=60, limits=limits) as client:
        deadline = time.monotonic() + seconds
        began, cpu_before = time.monotonic(), users.cpu_seconds()
        errors = await asyncio.gather(*(_back_to_back(client, s, deadline, samples) for s in steps))
        elapsed, cpu = time.monotonic() - began, users.cpu_seconds() - cpu_before
    return Latencies(samples, sum(errors, Counter()), elapsed, cpu)


async def _measure(users: Service, emails: list[str], seconds: float) -> SessionCost:
    login = await _run(users, [_login_step(e) for e in emails], seconds)
    async with httpx.AsyncClient(base_url=users.url, timeout=60) as client:
        refreshers = [await _refresh_step(client, e) for e in emails]
    refresh = await _run(users, refreshers, seconds)
    return SessionCost(login, refresh)


def measure(users: Service, emails: list[str], *, seconds: float) -> SessionCost:
    say(f"users: login, then refresh latency; {len(emails)} clients, {seconds:g} s each")
    return asyncio.run(_measure(users, emails, seconds))
