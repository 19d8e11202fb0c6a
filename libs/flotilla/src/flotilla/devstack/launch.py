"""Start services as the dev stack runs them: one process each, on loopback.

    specs = stack(data_dir)                        # every registered service, the gateway last
    database_urls = prepare_databases(server_url, specs)
    processes = spawn_all(specs, database_urls)
    try:
        wait_until_ready(processes)
        ...
    finally:
        stop_all(processes)

``python -m flotilla.devstack`` and the drills (``python -m drills.bench``, and
chaos and soak through the dev stack) start their services here, so a service
that ``nox -s new-service`` adds runs in all of them, with its own database and
migrations. A service runs as in production, ``python -m flotilla.server
<service>``; :func:`start` runs any other server command the same way.
"""

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import URL

from flotilla.devstack.registry import REPO_ROOT
from flotilla.devstack.services import ServiceSpec
from flotilla.migrations import upgrade_to_head
from flotilla.testing.postgres import create_database, database_exists

READY_TIMEOUT_SECONDS = 60.0
STOP_GRACE_SECONDS = 5.0
#: How much of a failed process's log an error quotes.
LOG_TAIL_CHARS = 2000

#: Where progress goes: the dev stack prints it; by default nothing is said.
Say = Callable[[str], None]


def _silent(message: str) -> None:
    pass


class LaunchError(Exception):
    """A process that would not start: one clear line (and its log's tail), not a traceback."""


@dataclass(frozen=True)
class Process:
    """A started server: its name (``items``, ``items-traced``), URL and OS process."""

    name: str
    url: str
    popen: subprocess.Popen[bytes]
    #: Its output, when it goes to a file rather than to this process's.
    log: Path | None = None
    #: What answers 200 once it serves.
    ready_path: str = "/readyz"


def prepare_databases(
    server_url: URL, specs: Sequence[ServiceSpec], *, prefix: str = "", say: Say = _silent
) -> dict[str, str]:
    """Create each service's database if missing and migrate it; returns their URLs by service.

    A database is named after its service's package (``items``), after ``prefix``
    if one is given (``bench_1a2b_items``).
    """
    urls = {}
    for spec in specs:
        service = spec.service
        if not service.has_database:
            continue
        name = f"{prefix}{service.package}"
        if not database_exists(server_url, name):
            create_database(server_url, name)
        url = server_url.set(database=name).render_as_string(hide_password=False)
        upgrade_to_head(str(service.alembic_ini), url)
        urls[service.name] = url
        say(f"{service.name}: database {name} migrated")
    return urls


def start(
    name: str,
    command: Sequence[str],
    url: str,
    *,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    run_dir: Path | None = None,
    ready_path: str = "/readyz",
) -> Process:
    """Run ``command`` from the repo root with this environment plus ``env``.

    Its output goes to ``log`` (created) if given, else to this process's; with
    ``run_dir`` its pid is written to ``<run_dir>/<name>.pid``.
    """
    with open(log, "wb") if log is not None else contextlib.nullcontext() as output:
        popen = subprocess.Popen(  # noqa: S603 (the caller's argv, no shell)
            command,
            env={**os.environ, **(env or {})},
            cwd=REPO_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
        )
    if run_dir is not None:
        (run_dir / f"{name}.pid").write_text(str(popen.pid))
    return Process(name, url, popen, log, ready_path)


def spawn(
    spec: ServiceSpec,
    database_url: str | None,
    *,
    env: Mapping[str, str] | None = None,
    suffix: str = "",
    log_dir: Path | None = None,
    run_dir: Path | None = None,
) -> Process:
    """``python -m flotilla.server <service>`` with the spec's environment, then ``env``.

    ``suffix`` names a second instance (``items-traced``), which a spec with its own
    ``listen_port`` puts elsewhere; with ``log_dir`` its output goes to ``<log_dir>/<name>.log``.
    """
    name = f"{spec.name}{suffix}"
    # Each process names itself in its spans, whatever OTEL_SERVICE_NAME the shell holds.
    environment = {"OTEL_SERVICE_NAME": spec.name, **spec.env}
    if database_url is not None:
        environment[f"{spec.service.env_prefix}DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "flotilla.server", spec.name]
    command += ["--host", "127.0.0.1", "--port", str(spec.port)]
    return start(
        name,
        command,
        spec.url,
        env={**environment, **(env or {})},
        log=log_dir / f"{name}.log" if log_dir is not None else None,
        run_dir=run_dir,
    )


def spawn_all(
    specs: Sequence[ServiceSpec],
    database_urls: Mapping[str, str],
    *,
    env: Mapping[str, str] | None = None,
    log_dir: Path | None = None,
    run_dir: Path | None = None,
) -> list[Process]:
    """:func:`spawn` every spec, each with its database from ``database_urls``."""
    return [
        spawn(spec, database_urls.get(spec.name), env=env, log_dir=log_dir, run_dir=run_dir)
        for spec in specs
    ]


def _exited(process: Process) -> LaunchError:
    if process.log is None:
        return LaunchError(f"{process.name} exited during start-up (see its output above)")
    tail = process.log.read_text(errors="replace")[-LOG_TAIL_CHARS:]
    return LaunchError(f"{process.name} exited during start-up; the end of {process.log}:\n{tail}")


def wait_until_ready(
    processes: Sequence[Process], *, timeout: float = READY_TIMEOUT_SECONDS
) -> None:
    """Until each answers its ready path with 200; :class:`LaunchError` if one exits or is late."""
    deadline = time.monotonic() + timeout
    pending = list(processes)
    with httpx.Client(timeout=2) as client:
        while pending:
            process = pending[0]
            if process.popen.poll() is not None:
                raise _exited(process)
            with contextlib.suppress(httpx.HTTPError):
                if client.get(process.url + process.ready_path).status_code == 200:
                    pending.pop(0)
                    continue
            if time.monotonic() > deadline:
                raise LaunchError(
                    f"{process.name} did not answer {process.ready_path} within {timeout:.0f} s"
                )
            time.sleep(0.2)


def stop_all(
    processes: Sequence[Process],
    *,
    grace: float = STOP_GRACE_SECONDS,
    run_dir: Path | None = None,
    say: Say = _silent,
) -> None:
    """SIGTERM to each, then SIGKILL to whatever still runs after ``grace`` seconds.

    Stopping what has stopped does nothing, so it is safe to call twice.
    """
    for process in processes:
        if process.popen.poll() is None:
            process.popen.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{process.name} did not stop in time; killing it")
            process.popen.kill()
            process.popen.wait()
        if run_dir is not None:
            (run_dir / f"{process.name}.pid").unlink(missing_ok=True)
