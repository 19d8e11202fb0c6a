"""Run every service and the gateway as separate processes on a real Postgres.

    python -m flotilla.devstack [--data-dir DIR]

Postgres is ``DATABASE_URL`` (a server URL) when set, otherwise an embedded
server whose data lives under the data directory and survives restarts.
Ctrl-C, SIGINT or SIGTERM stops everything this started. If an earlier run was
killed before it could, the next start stops what it left running.
"""

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import httpx
import psutil
from sqlalchemy.engine import URL, make_url

from flotilla.devstack.registry import REPO_ROOT
from flotilla.devstack.services import ServiceSpec, stack
from flotilla.migrations import upgrade_to_head
from flotilla.testing.postgres import (
    DRIVER,
    EmbeddedServer,
    create_database,
    database_exists,
)

READY_TIMEOUT_SECONDS = 60.0
STOP_GRACE_SECONDS = 5.0


class StackError(Exception):
    """A problem worth one clear line, not a traceback."""


def say(message: str) -> None:
    print(f"[devstack] {message}", flush=True)


def ensure_ports_free(services: list[ServiceSpec]) -> None:
    for service in services:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", service.port))
            except OSError:
                raise StackError(
                    f"port {service.port} is already in use "
                    f"(set {service.service.env_prefix}PORT to use another)"
                ) from None


def prepare_databases(server_url: URL, services: list[ServiceSpec]) -> dict[str, str]:
    """Create each service's database if missing and migrate it; returns their URLs."""
    urls = {}
    for spec in services:
        service = spec.service
        if not service.has_database:
            continue
        if not database_exists(server_url, service.package):
            create_database(server_url, service.package)
        url = server_url.set(database=service.package).render_as_string(hide_password=False)
        upgrade_to_head(str(service.alembic_ini), url)
        urls[service.name] = url
        say(f"{service.name}: database {service.package} migrated")
    return urls


def stop_leftovers(services: list[ServiceSpec], run_dir: Path) -> None:
    """Stop services an earlier run left running: it was killed, so its pid files remain."""
    for service in services:
        pid_file = run_dir / f"{service.name}.pid"
        if not pid_file.exists():
            continue
        with contextlib.suppress(ValueError, psutil.NoSuchProcess, psutil.AccessDenied):
            process = psutil.Process(int(pid_file.read_text()))
            if process.cmdline()[2:4] == ["flotilla.server", service.name]:
                say(f"stopping {service.name} (pid {process.pid}), left running by an earlier run")
                process.terminate()
                try:
                    process.wait(STOP_GRACE_SECONDS)
                except psutil.TimeoutExpired:
                    process.kill()
        pid_file.unlink()


def spawn(service: ServiceSpec, database_url: str | None, log_dir: Path) -> subprocess.Popen[bytes]:
    # Each process names itself in its spans, whatever OTEL_SERVICE_NAME the shell holds.
    env = {**os.environ, "OTEL_SERVICE_NAME": service.name, **service.env}
    if database_url is not None:
        env[f"{service.service.env_prefix}DATABASE_URL"] = database_url
    command = [
        sys.executable,
        "-m",
        "flotilla.server",
        service.name,
        "--host",
        "127.0.0.1",
        "--port",
        str(service.port),
    ]
    process = subprocess.Popen(command, env=env, cwd=REPO_ROOT)  # noqa: S603 (fixed argv)
    (log_dir / f"{service.name}.pid").write_text(str(process.pid))
    return process


def wait_until_ready(
    services: list[ServiceSpec], processes: dict[str, subprocess.Popen[bytes]]
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    pending = list(services)
    with httpx.Client(timeout=2) as client:
        while pending:
            service = pending[0]
            if processes[service.name].poll() is not None:
                raise StackError(f"{service.name} exited during start-up (see its output above)")
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{service.url}/readyz").status_code == 200:
                    pending.pop(0)
                    continue
            if time.monotonic() > deadline:
                raise StackError(
                    f"{service.name} was not ready within {READY_TIMEOUT_SECONDS:.0f} s"
                )
            time.sleep(0.2)


def stop_all(processes: dict[str, subprocess.Popen[bytes]], run_dir: Path) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop in time; killing it")
            process.kill()
            process.wait()
        (run_dir / f"{name}.pid").unlink(missing_ok=True)


def supervise(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    """Report services that exit; keep the rest running until told to stop."""
    reported: set[str] = set()
    while len(reported) < len(processes):
        for name, process in processes.items():
            code = process.poll()
            if code is not None and name not in reported:
                reported.add(name)
                still = [n for n in processes if n not in reported]
                say(f"{name} exited with code {code}; still running: {', '.join(still) or 'none'}")
        time.sleep(0.5)
    say("every service has exited")


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    """The first SIGINT or SIGTERM starts the shutdown; later ones can't cut it short.

    Ctrl-C in a terminal reaches nox and this process both, and nox passes its
    own on: without this, the second one would abort the shutdown half-way.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def run(data_dir: Path) -> None:
    services = stack(data_dir)
    run_dir = data_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    embedded: EmbeddedServer | None = None
    processes: dict[str, subprocess.Popen[bytes]] = {}
    signal.signal(signal.SIGINT, _stop_on_signal)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    try:
        stop_leftovers(services, run_dir)
        ensure_ports_free(services)
        if "DATABASE_URL" in os.environ:
            server_url = make_url(os.environ["DATABASE_URL"]).set(drivername=DRIVER)
        else:
            embedded = EmbeddedServer(data_dir / "postgres")
            server_url = embedded.start()
            say(f"embedded Postgres, data in {data_dir / 'postgres'}")
        database_urls = prepare_databases(server_url, services)
        for service in services:
            processes[service.name] = spawn(service, database_urls.get(service.name), run_dir)
        wait_until_ready(services, processes)
        gateway = services[-1]
        say(f"ready: {gateway.url}  (API docs: {gateway.url}/docs)  Ctrl-C stops everything")
        supervise(processes)
    except KeyboardInterrupt:
        say("stopping")
    finally:
        stop_all(processes, run_dir)
        if embedded is not None:
            embedded.stop()
        say("stopped")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m flotilla.devstack", description=__doc__)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=REPO_ROOT / ".flotilla",
        help="where the embedded Postgres, keys and pid files live (default: .flotilla/)",
    )
    args = parser.parse_args()
    try:
        run(args.data_dir.resolve())
    except StackError as error:
        say(f"error: {error}")
        sys.exit(1)


if __name__ == "__main__":
    main()
