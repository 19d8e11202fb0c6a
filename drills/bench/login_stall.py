"""Does a burst of logins stall the users service? ``/healthz`` latency idle and under logins.

Login hashes the password with Argon2 (64 MiB, the production cost), the
most CPU a request of ours can take. A paced probe of ``GET /healthz`` (a few
connections, each pausing between requests, like an orchestrator's probes
and ordinary traffic) measures the p99 first on an idle service, then while
20 connections log in back to back, as 20 different users.
"""

import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

from drills.bench import load
from drills.bench.harness import Service, say
from drills.bench.load import Request, Result

LOGIN_CONNECTIONS = 20
PROBE = Request("/healthz", pause_ms=10)
PROBE_CONNECTIONS = 8
PASSWORD = "bench password 1"


@dataclass(frozen=True)
class LoginStall:
    #: Per round: the probe on the idle service, then while logins run.
    idle: list[Result]
    loaded: list[Result]
    logins: int
    logins_per_second: float
    login_errors: int

    @property
    def idle_p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.idle)

    @property
    def loaded_p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.loaded)

    @property
    def p99_ratio(self) -> float:
        """Median over rounds of loaded p99 / idle p99, each pair measured back to back."""
        pairs = zip(self.loaded, self.idle, strict=True)
        return statistics.median(loaded.p99_ms / idle.p99_ms for loaded, idle in pairs)


def register_users(users: Service, count: int) -> list[str]:
    """``count`` accounts (the service hashes each password as it would in production)."""
    emails = [f"bench-{n}@example.com" for n in range(count)]
    with httpx.Client(base_url=users.url, timeout=60) as client:
        for email in emails:
            response = client.post(
                "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
            )
            if response.status_code != 201:
                raise SystemExit(f"registering {email}: {response.status_code} {response.text}")
    return emails


def access_token(users: Service, email: str) -> str:
    with httpx.Client(base_url=users.url, timeout=60) as client:
        response = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token


def measure(users: Service, emails: list[str], *, seconds: float, rounds: int) -> LoginStall:
    say(
        f"users /healthz p99: idle, then during {LOGIN_CONNECTIONS} concurrent logins; "
        f"{rounds} rounds"
    )
    logins = Request(
        "/api/v1/auth/token",
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        rotating_bodies=[urlencode({"username": e, "password": PASSWORD}) for e in emails],
    )
    idle: list[Result] = []
    loaded: list[Result] = []
    total = errors = 0
    elapsed = 0.0

    def probe() -> Result:
        return load.run(
            users.url, PROBE, connections=PROBE_CONNECTIONS, seconds=seconds, measured=[users]
        )

    with tempfile.TemporaryDirectory(prefix="flotilla-bench-") as script_dir:
        for _ in range(rounds):
            idle.append(probe())
            background = load.start(
                users.url,
                logins,
                connections=LOGIN_CONNECTIONS,
                seconds=seconds + 2,
                script_dir=Path(script_dir),
            )
            try:
                time.sleep(1.0)  # the logins are under way before the probe starts
                loaded.append(probe())
            finally:
                done, _, failed = load.finish(background)
            total += done
            errors += failed
            elapsed += seconds + 2
    return LoginStall(idle, loaded, total, total / elapsed, errors)
