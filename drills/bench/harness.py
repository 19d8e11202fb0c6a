"""What every benchmark needs: Postgres, migrated databases, services as real processes.

Services run exactly as they do in production: ``python -m flotilla.server
<service>.main:create_app``, one process each, on loopback ports. Everything
started here is stopped when its ``with`` block ends, whatever happens inside it.
"""

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import create_engine, insert
from sqlalchemy.engine import URL, make_url

from flotilla.devstack.registry import discover
from flotilla.migrations import upgrade_to_head
from flotilla.testing.postgres import DRIVER, EmbeddedServer, create_database, drop_database
from flotilla.testing.servers import free_port
from items.models import items

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
SEEDED_ITEMS = 1000
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

#: The services of this checkout, by name.
REGISTRY = {service.name: service for service in discover()}


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


@dataclass
class Service:
    """A service under test: its server process, its URL and its log."""

    name: str
    popen: subprocess.Popen[bytes]
    url: str
    log: Path

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


@contextlib.contextmanager
def migrated_database(server_url: URL, service: str) -> Iterator[str]:
    """A new database with ``service``'s migrations applied; dropped afterwards."""
    name = f"bench_{service}_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(str(REPO_ROOT / "services" / service / "alembic.ini"), url)
        yield url
    finally:
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
    conninfo = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True) as db:
        db.execute("DELETE FROM items WHERE id > %s", (last_seeded_id,))
        db.execute("VACUUM (ANALYZE) items")


def spawn(
    name: str,
    app: str,
    env: Mapping[str, str],
    log_dir: Path,
    *,
    flotilla_service: bool = True,
) -> Service:
    """One server process on a free loopback port.

    A Flotilla service runs as in production, ``python -m flotilla.server <factory>``;
    anything else (the textbook baseline) as ``uvicorn <app>`` with one worker.
    """
    port = free_port()
    address = ["--host", "127.0.0.1", "--port", str(port)]
    if flotilla_service:
        command = [sys.executable, "-m", "flotilla.server", app, *address]
    else:
        command = [sys.executable, "-m", "uvicorn", app, *address, "--workers", "1"]
    log = log_dir / f"{name}.log"
    with log.open("wb") as output:
        popen = subprocess.Popen(  # noqa: S603 (fixed argv)
            command,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
    return Service(name, popen, f"http://127.0.0.1:{port}", log)


def wait_until_answering(service: Service, path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    with httpx.Client(timeout=2) as client:
        while True:
            if service.popen.poll() is not None:
                tail = service.log.read_text(errors="replace")[-2000:]
                raise SystemExit(f"{service.name} exited during start-up:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if client.get(service.url + path).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise SystemExit(f"{service.name} did not answer {path} in time")
            time.sleep(0.2)


def stop(services: list[Service]) -> None:
    """SIGTERM, then SIGKILL whatever is still running after the grace period."""
    for service in services:
        if service.popen.poll() is None:
            service.popen.terminate()
    for service in services:
        try:
            service.popen.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            service.popen.kill()
            service.popen.wait()


@contextlib.contextmanager
def running(services: list[Service]) -> Iterator[list[Service]]:
    try:
        yield services
    finally:
        stop(services)
