"""The gateway process, run as in production, reads a 32 MiB header with bounded memory."""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import psutil
import pytest

from flotilla.testing.rawhttp import stream_header
from flotilla.testing.servers import free_port

HUGE_HEADER_BYTES = 32 * 1024 * 1024
#: What reading the header may add to the process: the limits plus a few reads of
#: the socket. Buffering the header would add over 32 MiB (uvicorn alone: ~29 MiB).
ALLOWED_GROWTH_BYTES = 4 * 1024 * 1024


@pytest.fixture
def gateway_process() -> Iterator[tuple[psutil.Process, str]]:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "GATEWAY_ENVIRONMENT": "test",
        "GATEWAY_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "flotilla.server", "gateway.main:create_app"]
    process = subprocess.Popen(  # noqa: S603 (fixed argv)
        [*command, "--port", str(port)], env=env, stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
            time.sleep(0.1)
        yield psutil.Process(process.pid), url
    finally:
        process.terminate()
        process.wait(timeout=10)


class PeakRss:
    """Samples a process's resident memory every few milliseconds while active."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.peak = process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.002)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_a_32_mib_header_leaves_the_gateways_memory_bounded(
    gateway_process: tuple[psutil.Process, str],
) -> None:
    process, url = gateway_process
    before = process.memory_info().rss

    with PeakRss(process) as rss:
        response = stream_header(url, HUGE_HEADER_BYTES)

    growth = rss.peak - before
    print(f"gateway RSS {before / 2**20:.1f} MiB before, peak {rss.peak / 2**20:.1f} MiB")
    assert response.status == 431
    assert growth < ALLOWED_GROWTH_BYTES
