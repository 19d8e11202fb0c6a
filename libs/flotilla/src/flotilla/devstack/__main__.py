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
import sys
import time
from pathlib import Path
from types import FrameType

import psutil
from sqlalchemy.engine import make_url

from flotilla.devstack.launch import (
    STOP_GRACE_SECONDS,
    LaunchError,
    Process,
    prepare_databases,
    spawn_all,
    stop_all,
    wait_until_ready,
)
from flotilla.devstack.registry import REPO_ROOT
from flotilla.devstack.services import ServiceSpec, stack
from flotilla.testing.postgres import DRIVER, EmbeddedServer


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


def supervise(processes: list[Process]) -> None:
    """Report services that exit; keep the rest running until told to stop."""
    reported: set[str] = set()
    while len(reported) < len(processes):
        for process in processes:
            code = process.popen.poll()
            if code is not None and process.name not in reported:
                reported.add(process.name)
                still = [p.name for p in processes if p.name not in reported]
                say(
                    f"{process.name} exited with code {code}; "
                    f"still running: {', '.join(still) or 'none'}"
                )
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
    processes: list[Process] = []
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
        database_urls = prepare_databases(server_url, services, say=say)
        processes = spawn_all(services, database_urls, run_dir=run_dir)
        wait_until_ready(processes)
        gateway = services[-1]
        say(f"ready: {gateway.url}  (API docs: {gateway.url}/docs)  Ctrl-C stops everything")
        supervise(processes)
    except KeyboardInterrupt:
        say("stopping")
    finally:
        stop_all(processes, run_dir=run_dir, say=say)
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
    except (StackError, LaunchError) as error:
        say(f"error: {error}")
        sys.exit(1)


if __name__ == "__main__":
    main()
