"""SIGTERM drains first: /readyz 503 while everything is still served, then the server stops
accepting and finishes what it holds. Real uvicorn processes, real signals."""

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from flotilla.devstack import launch
from flotilla.shutdown import wait_for_drain
from flotilla.testing.servers import free_port

from .draining_app import DRAIN_SECONDS

LIBRARY_ROOT = Path(__file__).parents[2]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str


@pytest.fixture
def server() -> Iterator[Server]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "tests.unit.draining_app:create_app"]
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [*command, "--host", "127.0.0.1", "--port", str(port)], cwd=LIBRARY_ROOT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        launch.wait_until_ready(
            [launch.Process("draining app", url, process, ready_path="/healthz")]
        )
        yield Server(process, url)
    finally:
        process.kill()
        process.wait()


def test_readyz_is_503_naming_the_shutdown_as_soon_as_sigterm_arrives(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.2)

    response = httpx.get(f"{server.url}/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"shutdown": "unavailable"}}


def test_new_connections_are_served_during_the_drain(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    time.sleep(DRAIN_SECONDS / 2)

    response = httpx.get(f"{server.url}/healthz")

    assert response.status_code == 200
    assert server.process.poll() is None


def test_after_the_drain_new_connections_are_refused_and_held_requests_finish(
    server: Server,
) -> None:
    server.process.send_signal(signal.SIGTERM)
    time.sleep(DRAIN_SECONDS - 0.5)
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(httpx.get, f"{server.url}/slow", timeout=10)
        time.sleep(1.0)  # the drain is over, /slow is still running
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.url}/healthz")
        response = held.result()

    assert response.status_code == 200
    assert response.json() == {"status": "finished"}
    assert server.process.wait(timeout=10) == -signal.SIGTERM


def test_a_second_sigterm_does_not_cut_the_drain_short(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)

    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_the_prestop_hook_returns_once_the_drain_is_over(server: Server) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    started = time.monotonic()

    wait_for_drain(port, pid=server.process.pid)

    assert time.monotonic() - started >= DRAIN_SECONDS
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/healthz")
