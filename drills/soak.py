"""A short soak (``nox -s soak``): ``python -m drills.soak [--duration 60] [--users 8]``.

Starts a fresh dev stack and drives mixed traffic through its gateway, on
loopback only: virtual users that register and log in now and then, and
otherwise create, read, list, search, change and delete items and read
their profile, as fast as the stack answers. Reports requests, errors by
status, p50/p99 latency per operation and each process's memory (RSS)
after a warm-up and at the end. Exits non-zero on any 5xx or unanswered request.
The services log to ``build/reports/soak-stack.log``.
"""

import argparse
import asyncio
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from drills.traffic import NO_RESPONSE, PASSWORD, Sample, percentile, timed, unique_email
from flotilla.devstack.registry import discover
from tests_e2e.stack import Stack, started_dev_stack

REPORTS = Path(__file__).resolve().parents[1] / "build" / "reports"
LOG_FILE = REPORTS / "soak-stack.log"
#: Every service of the dev stack, the gateway included.
SERVICES = [service.name for service in discover()]
WARM_UP_SECONDS = 5.0
#: Requests one virtual user sends at most: the loop is bounded by count as well as time.
MAX_REQUESTS_PER_USER = 1_000_000
MIB = 1024 * 1024


@dataclass
class Results:
    #: operation -> samples.
    samples: defaultdict[str, list[Sample]] = field(default_factory=lambda: defaultdict(list))

    def add(self, operation: str, sample: Sample) -> Sample:
        self.samples[operation].append(sample)
        return sample

    def all(self) -> list[Sample]:
        return [s for samples in self.samples.values() for s in samples]


@dataclass
class VirtualUser:
    """One client's session: its credentials, its token and the items it owns."""

    client: httpx.AsyncClient
    results: Results
    rng: random.Random
    email: str = ""
    auth: dict[str, str] = field(default_factory=dict)
    items: list[int] = field(default_factory=list)

    async def request(self, operation: str, method: str, url: str, **kwargs: object) -> Sample:
        return self.results.add(operation, await timed(self.client, method, url, **kwargs))

    async def register(self) -> None:
        self.email = unique_email("soak")
        body = {"email": self.email, "password": PASSWORD}
        await self.request("register", "POST", "/api/v1/auth/register", json=body)
        await self.login()

    async def login(self) -> None:
        form = {"username": self.email, "password": PASSWORD}
        sample = await self.request("login", "POST", "/api/v1/auth/token", data=form)
        if sample.status == 200:
            self.auth = {"Authorization": f"Bearer {sample.body['access_token']}"}

    async def create(self) -> None:
        body = {
            "name": f"soak item {self.rng.randrange(10**6)}",
            "price": self.rng.randrange(10**5),
        }
        sample = await self.request(
            "create item", "POST", "/api/v1/items/", json=body, headers=self.auth
        )
        if sample.status == 201:
            self.items.append(sample.body["id"])

    async def read(self) -> None:
        if self.items:
            await self.request("read item", "GET", f"/api/v1/items/{self.rng.choice(self.items)}")

    async def browse(self) -> None:
        params = {"skip": self.rng.randrange(50), "limit": 20}
        await self.request("list items", "GET", "/api/v1/items/", params=params)

    async def search(self) -> None:
        params = {"q": str(self.rng.randrange(100))}
        await self.request("search items", "GET", "/api/v1/items/", params=params)

    async def change(self) -> None:
        if self.items:
            item_id = self.rng.choice(self.items)
            body = {"price": self.rng.randrange(10**5)}
            await self.request(
                "patch item", "PATCH", f"/api/v1/items/{item_id}", json=body, headers=self.auth
            )

    async def delete(self) -> None:
        if len(self.items) > 5:
            item_id = self.items.pop(self.rng.randrange(len(self.items)))
            await self.request(
                "delete item", "DELETE", f"/api/v1/items/{item_id}", headers=self.auth
            )

    async def profile(self) -> None:
        await self.request("read profile", "GET", "/api/v1/users/me", headers=self.auth)

    def mix(self) -> list[tuple[Callable[[], Awaitable[None]], int]]:
        """Actions and their weights; password hashing (login) is kept rare, as in real use."""
        return [
            (self.create, 20),
            (self.read, 25),
            (self.browse, 15),
            (self.search, 10),
            (self.change, 10),
            (self.delete, 5),
            (self.profile, 14),
            (self.login, 1),
        ]

    async def run(self, deadline: float) -> None:
        await self.register()
        actions, weights = zip(*self.mix(), strict=True)
        for _ in range(MAX_REQUESTS_PER_USER):
            if time.monotonic() >= deadline:
                return
            await self.rng.choices(actions, weights)[0]()


def virtual_users(
    client: httpx.AsyncClient, results: Results, count: int, seed: int
) -> list[VirtualUser]:
    # A reproducible traffic mix, not cryptography.
    return [VirtualUser(client, results, random.Random(seed + n)) for n in range(count)]  # noqa: S311


def service_processes(stack: Stack) -> dict[str, psutil.Process]:
    assert stack.data_dir is not None
    processes = {
        name: psutil.Process(int((stack.data_dir / "run" / f"{name}.pid").read_text()))
        for name in SERVICES
    }
    postmaster = (stack.data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[0]
    processes["postgres"] = psutil.Process(int(postmaster))
    return processes


def memory(processes: dict[str, psutil.Process]) -> dict[str, int]:
    """RSS per service; for Postgres, its server processes' unique memory (USS) added up."""
    usage = {name: p.memory_info().rss for name, p in processes.items() if name != "postgres"}
    server = processes["postgres"]
    usage["postgres"] = sum(p.memory_full_info().uss for p in [server, *server.children()])
    return usage


async def drive(stack: Stack, *, duration: float, users: int, seed: int) -> int:
    processes = service_processes(stack)
    idle = memory(processes)
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30, limits=limits) as client:
        warm_up = Results()
        deadline = time.monotonic() + WARM_UP_SECONDS
        warmers = virtual_users(client, warm_up, users, seed)
        await asyncio.gather(*(user.run(deadline) for user in warmers))
        before = memory(processes)
        results = Results()
        started = time.monotonic()
        deadline = started + duration
        soakers = virtual_users(client, results, users, seed + users)
        await asyncio.gather(*(user.run(deadline) for user in soakers))
        elapsed = time.monotonic() - started
    after = memory(processes)
    return report(results, elapsed, idle, before, after)


def report(
    results: Results,
    elapsed: float,
    idle: dict[str, int],
    before: dict[str, int],
    after: dict[str, int],
) -> int:
    everything = results.all()
    statuses = Counter(s.status for s in everything)
    errors = {status: n for status, n in statuses.items() if not 200 <= status < 300}
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    unanswered = statuses.get(NO_RESPONSE, 0)
    rate = len(everything) / elapsed
    print(f"\nsoak: {len(everything)} requests in {elapsed:.1f} s ({rate:.0f}/s)")
    print(f"  by status: {dict(sorted(statuses.items()))}")
    print(f"  errors (not 2xx): {sum(errors.values())} {dict(sorted(errors.items()))}")
    print(f"  5xx: {server_errors}, unanswered: {unanswered}")
    print(f"  {'operation':14} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  statuses")
    rows = [("all", everything), *sorted(results.samples.items())]
    for operation, samples in rows:
        seconds = [s.seconds for s in samples]
        by_status = dict(sorted(Counter(s.status for s in samples).items()))
        print(
            f"  {operation:14} {len(samples):9} {percentile(seconds, 0.5) * 1000:8.1f} "
            f"{percentile(seconds, 0.99) * 1000:8.1f} {max(seconds, default=0) * 1000:8.1f}  "
            f"{by_status if operation != 'all' else ''}"
        )
    print(f"  memory (MiB)   {'idle':>8} {'warm':>8} {'end':>8} {'end-warm':>9}")
    for name in after:
        growth = (after[name] - before[name]) / MIB
        print(
            f"  {name:14} {idle[name] / MIB:8.1f} {before[name] / MIB:8.1f} "
            f"{after[name] / MIB:8.1f} {growth:+9.1f}"
        )
    failed = server_errors + unanswered
    print(f"soak: {'FAILED' if failed else 'passed'} ({failed} 5xx or unanswered requests)")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m drills.soak", description=__doc__)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--users", type=int, default=8, help="concurrent virtual users (default 8)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the traffic mix")
    args = parser.parse_args()
    REPORTS.mkdir(parents=True, exist_ok=True)
    LOG_FILE.unlink(missing_ok=True)
    print(f"soak: starting a dev stack (services log to {LOG_FILE})", flush=True)
    with started_dev_stack(log_file=LOG_FILE) as stack:
        print(
            f"soak: {args.users} virtual users, {WARM_UP_SECONDS:.0f} s warm-up, "
            f"then {args.duration:.0f} s through {stack.gateway_url}",
            flush=True,
        )
        return asyncio.run(drive(stack, duration=args.duration, users=args.users, seed=args.seed))


if __name__ == "__main__":
    sys.exit(main())
