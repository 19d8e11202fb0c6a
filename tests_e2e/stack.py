"""The stack under test: one given by ``GATEWAY_URL``, or a dev stack started for the run."""

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flotilla.devstack import launch
from flotilla.devstack.registry import discover
from flotilla.testing.servers import free_port

READY_TIMEOUT_SECONDS = 120.0
#: The admin the self-started stack seeds; a given stack names its own in the environment.
DEFAULT_ADMIN = ("e2e-admin@example.com", "e2e-admin-password")


@dataclass
class Stack:
    gateway_url: str
    admin_email: str
    admin_password: str
    #: How to take the items service down (for the outage test); None if we can't.
    stop_items_command: list[str] | None
    #: Each service's own URL by name ("users", "items", ..., "gateway"), where known.
    service_urls: dict[str, str] = field(default_factory=dict)
    #: The dev stack's data directory (pid files, embedded Postgres); None for a given stack.
    data_dir: Path | None = None


@contextlib.contextmanager
def given_stack() -> Iterator[Stack]:
    command = os.environ.get("E2E_STOP_ITEMS")
    gateway_url = os.environ["GATEWAY_URL"].rstrip("/")
    yield Stack(
        gateway_url=gateway_url,
        admin_email=os.environ.get("FIRST_ADMIN_EMAIL", DEFAULT_ADMIN[0]),
        admin_password=os.environ.get("FIRST_ADMIN_PASSWORD", DEFAULT_ADMIN[1]),
        stop_items_command=shlex.split(command) if command else None,
        # USERS_URL, ITEMS_URL, ... name the services behind the gateway, if reachable.
        service_urls={
            "gateway": gateway_url,
            **{
                service.name: os.environ[f"{service.env_prefix}URL"].rstrip("/")
                for service in discover()
                if not service.is_gateway and os.environ.get(f"{service.env_prefix}URL")
            },
        },
    )


@contextlib.contextmanager
def started_dev_stack(
    *, env: Mapping[str, str] | None = None, log_file: Path | None = None
) -> Iterator[Stack]:
    """``python -m flotilla.devstack`` on free ports with a fresh database, stopped afterwards.

    ``env`` adds settings for the services (e.g. a shorter gateway timeout);
    ``log_file`` takes the services' output instead of this process's stdout.
    """
    services = discover()
    ports = {service.name: free_port() for service in services}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    email, password = DEFAULT_ADMIN
    environment = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        **{f"{service.env_prefix}PORT": str(ports[service.name]) for service in services},
        "FIRST_ADMIN_EMAIL": email,
        "FIRST_ADMIN_PASSWORD": password,
        **(env or {}),
    }
    with (
        tempfile.TemporaryDirectory(prefix="flotilla-e2e-") as data_dir,
        log_file.open("ab") if log_file is not None else contextlib.nullcontext() as output,
    ):
        launcher = subprocess.Popen(  # noqa: S603 (fixed argv)
            [sys.executable, "-m", "flotilla.devstack", "--data-dir", data_dir],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
        )
        gateway_url = urls["gateway"]
        try:
            ready = launch.Process("the dev stack", gateway_url, launcher, log=log_file)
            launch.wait_until_ready([ready], timeout=READY_TIMEOUT_SECONDS)
            items_pid = (Path(data_dir) / "run" / "items.pid").read_text().strip()
            yield Stack(
                gateway_url,
                email,
                password,
                ["kill", items_pid],
                service_urls=urls,
                data_dir=Path(data_dir),
            )
        finally:
            launcher.send_signal(signal.SIGTERM)
            launcher.wait(timeout=30)


def stack_under_test(
    *, env: Mapping[str, str] | None = None, log_file: Path | None = None
) -> contextlib.AbstractContextManager[Stack]:
    """The given stack, or a dev stack started with ``env`` and logging to ``log_file``."""
    if os.environ.get("GATEWAY_URL"):
        return given_stack()
    return started_dev_stack(env=env, log_file=log_file)
