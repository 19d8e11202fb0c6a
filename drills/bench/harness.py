"""What every benchmark needs: Postgres, migrated databases, services as real processes.

The services start as the dev stack starts them (:mod:`flotilla.devstack.launch`):
every registered service, each with its own migrated database, as in production
(``python -m flotilla.server <service>``), one process each on a free loopback
port. Everything started here is stopped when the run's ``with`` block ends,
whatever happens inside it. The CPU and memory readers and the seeding are the
benchmark's own.
"""

import contextlib
import dataclasses
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, insert
from sqlalchemy.engine import URL, make_url

from flotilla.devstack import launch
from flotilla.devstack.registry import discover
from flotilla.devstack.services import ServiceSpec, stack
from flotilla.testing.postgres import (
    DRIVER,
    EmbeddedServer,
    admin_connect,
    database_exists,
    drop_database,
)
from flotilla.testing.servers import free_port
from items.models import items

START_TIMEOUT_SECONDS = launch.READY_TIMEOUT_SECONDS
STOP_TIMEOUT_SECONDS = 10.0
SEEDED_ITEMS = 1000
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: The textbook baseline (``drills/bench/baselines``): plain uvicorn, as the article runs it.
TEXTBOOK_APP = "drills.bench.baselines.textbook_items:app"


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def _stat_fields(pid: int) -> list[str]:
    """``/proc/<pid>/stat`` from field 3 (state) on; the command name may contain spaces."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu_seconds(pid: int, *, with_reaped_children: bool = False) -> float:
    """User + system CPU of a process (and, optionally, of its children that exited)."""
    fields = _stat_fields(pid)
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / _CLOCK_TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass(frozen=True)
class Service:
    """A process under test, as the launcher started it, with its CPU and memory readers."""

    process: launch.Process

    @property
    def name(self) -> str:
        return self.process.name

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def popen(self) -> subprocess.Popen[bytes]:
        return self.process.popen

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.popen.pid)

    def rss_mib(self) -> float:
        return rss_mib(self.popen.pid)


class PostgresServer:
    """The database server; its CPU is measurable when it runs on this machine."""

    name = "postgres"

    def __init__(self, url: URL, postmaster_pid: int | None) -> None:
        self.url = url
        self.postmaster_pid = postmaster_pid

    @property
    def cpu_measurable(self) -> bool:
        return self.postmaster_pid is not None

    def cpu_seconds(self) -> float:
        """The postmaster with every backend: live ones, and those that exited since it started."""
        if self.postmaster_pid is None:
            return 0.0
        total = process_cpu_seconds(self.postmaster_pid, with_reaped_children=True)
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = _stat_fields(int(entry.name))
                if int(fields[1]) == self.postmaster_pid:  # ppid
                    total += (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
        return total


def _postmaster_pid(url: URL) -> int | None:
    """The embedded server keeps its socket and ``postmaster.pid`` in its data directory."""
    socket_dir = url.query.get("host")
    if not isinstance(socket_dir, str):
        return None
    pid_file = Path(socket_dir) / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(pid_file.read_text().split()[0])
    return None


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """``DATABASE_URL`` (a server URL) when set, otherwise an embedded Postgres for this run."""
    if "DATABASE_URL" in os.environ:
        yield PostgresServer(make_url(os.environ["DATABASE_URL"]).set(drivername=DRIVER), None)
        return
    server = EmbeddedServer()
    say("starting an embedded Postgres")
    url = server.start()
    try:
        yield PostgresServer(url, _postmaster_pid(url))
    finally:
        server.stop()


def service_specs(data_dir: Path) -> list[ServiceSpec]:
    """Every registered service on a free loopback port, the gateway last."""
    services = discover()
    return stack(data_dir, services, ports={service.name: free_port() for service in services})


@contextlib.contextmanager
def migrated_databases(server_url: URL, specs: Sequence[ServiceSpec]) -> Iterator[dict[str, str]]:
    """New databases of this run, one per service that has one, migrated; dropped afterwards."""
    prefix = f"bench_{uuid.uuid4().hex[:8]}_"
    try:
        yield launch.prepare_databases(server_url, specs, prefix=prefix)
    finally:
        for spec in specs:
            name = f"{prefix}{spec.service.package}"
            if spec.service.has_database and database_exists(server_url, name):
                drop_database(server_url, name)


def seed_items(database_url: str, count: int = SEEDED_ITEMS) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            insert(items),
            [
                {"name": f"item {n}", "description": "seeded", "price": n, "owner_id": 1}
                for n in range(1, count + 1)
            ],
        )
    engine.dispose()


def delete_items_after(database_url: str, last_seeded_id: int = SEEDED_ITEMS) -> None:
    """Remove what a write benchmark added, so later list runs count the same rows."""
    with admin_connect(make_url(database_url)) as db:
        db.execute("DELETE FROM items WHERE id > %s", (last_seeded_id,))
        db.execute("VACUUM (ANALYZE) items")


def start(
    specs: Sequence[ServiceSpec],
    database_urls: Mapping[str, str],
    log_dir: Path,
    env: Mapping[str, str],
) -> list[Service]:
    """Every spec's service, each logging to ``<log_dir>/<name>.log``."""
    processes = launch.spawn_all(specs, database_urls, env=env, log_dir=log_dir)
    return [Service(process) for process in processes]


def start_instance(
    spec: ServiceSpec,
    database_url: str | None,
    log_dir: Path,
    *,
    suffix: str,
    env: Mapping[str, str],
) -> Service:
    """A second instance of a service (``items-traced``) on a free port."""
    elsewhere = dataclasses.replace(spec, listen_port=free_port())
    process = launch.spawn(elsewhere, database_url, env=env, suffix=suffix, log_dir=log_dir)
    return Service(process)


def start_textbook(database_url: str, log_dir: Path) -> Service:
    """The textbook app, launched as the others but served by plain uvicorn, one worker.

    Not ``python -m flotilla.server``: the baseline is what the article runs, with
    uvicorn's defaults (its access log, its ``Server`` header), untuned.
    """
    port = free_port()
    address = ["--host", "127.0.0.1", "--port", str(port)]
    process = launch.start(
        "textbook",
        [sys.executable, "-m", "uvicorn", TEXTBOOK_APP, *address, "--workers", "1"],
        f"http://127.0.0.1:{port}",
        env={"BASELINE_DATABASE_URL": database_url},
        log=log_dir / "textbook.log",
        ready_path="/items/1",
    )
    return Service(process)


def wait_until_ready(services: Sequence[Service]) -> None:
    try:
        launch.wait_until_ready([service.process for service in services])
    except launch.LaunchError as error:
        raise SystemExit(str(error)) from None


def stop(services: Sequence[Service]) -> None:
    """SIGTERM, then SIGKILL whatever is still running after the grace period."""
    launch.stop_all([service.process for service in services], grace=STOP_TIMEOUT_SECONDS)
