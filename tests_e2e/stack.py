"""The stack under test: one given by ``GATEWAY_URL``, or a dev stack started for the run."""

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(url: str, launcher: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if launcher.poll() is not None:
            raise RuntimeError("the dev stack exited before it was ready")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"the dev stack was not ready within {READY_TIMEOUT_SECONDS:.0f} s")


@contextlib.contextmanager
def given_stack() -> Iterator[Stack]:
    command = os.environ.get("E2E_STOP_ITEMS")
    yield Stack(
        gateway_url=os.environ["GATEWAY_URL"].rstrip("/"),
        admin_email=os.environ.get("FIRST_ADMIN_EMAIL", DEFAULT_ADMIN[0]),
        admin_password=os.environ.get("FIRST_ADMIN_PASSWORD", DEFAULT_ADMIN[1]),
        stop_items_command=shlex.split(command) if command else None,
    )


@contextlib.contextmanager
def started_dev_stack() -> Iterator[Stack]:
    """``python -m flotilla.devstack`` on free ports with a fresh database, stopped afterwards."""
    ports = {name: _free_port() for name in ("GATEWAY_PORT", "USERS_PORT", "ITEMS_PORT")}
    email, password = DEFAULT_ADMIN
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        **{name: str(port) for name, port in ports.items()},
        "FIRST_ADMIN_EMAIL": email,
        "FIRST_ADMIN_PASSWORD": password,
    }
    with tempfile.TemporaryDirectory(prefix="flotilla-e2e-") as data_dir:
        launcher = subprocess.Popen(  # noqa: S603 (fixed argv)
            [sys.executable, "-m", "flotilla.devstack", "--data-dir", data_dir], env=env
        )
        gateway_url = f"http://127.0.0.1:{ports['GATEWAY_PORT']}"
        try:
            _wait_ready(gateway_url, launcher)
            items_pid = (Path(data_dir) / "run" / "items.pid").read_text().strip()
            yield Stack(gateway_url, email, password, ["kill", items_pid])
        finally:
            launcher.send_signal(signal.SIGTERM)
            launcher.wait(timeout=30)


def stack_under_test() -> contextlib.AbstractContextManager[Stack]:
    return given_stack() if os.environ.get("GATEWAY_URL") else started_dev_stack()
