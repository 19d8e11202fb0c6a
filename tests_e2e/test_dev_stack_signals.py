"""``nox -s dev`` stops cleanly on every signal a person, IDE or process manager sends.

Each test starts the README's ``nox -s dev`` on free ports and a fresh data
directory, sends a real signal, and checks that no process of the stack is
left: not nox, not the launcher, not a service, not the embedded Postgres.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from flotilla.devstack import launch
from flotilla.devstack.registry import discover
from flotilla.testing.servers import free_port

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("GATEWAY_URL")),
    reason="about the dev stack; this run is against the stack at GATEWAY_URL",
)

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_SECONDS = 180.0
STOP_TIMEOUT_SECONDS = 60.0


@dataclass
class DevStack:
    nox: subprocess.Popen[bytes]
    data_dir: Path
    output: Path
    gateway_url: str

    def launcher(self) -> psutil.Process:
        for child in psutil.Process(self.nox.pid).children(recursive=True):
            if "flotilla.devstack" in child.cmdline():
                return child
        raise AssertionError("no launcher under nox")

    def processes(self) -> list[psutil.Process]:
        """Everything the stack runs: nox, its descendants and the Postgres postmaster."""
        nox = psutil.Process(self.nox.pid)
        postmaster = int((self.data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        return [nox, *nox.children(recursive=True), psutil.Process(postmaster)]

    def wait_until_ready(self) -> None:
        ready = launch.Process("nox -s dev", self.gateway_url, self.nox, log=self.output)
        launch.wait_until_ready([ready], timeout=READY_TIMEOUT_SECONDS)


def start_dev_stack(data_dir: Path) -> DevStack:
    # Every service on a free port: a dev stack on the machine keeps its own.
    ports = {f"{service.env_prefix}PORT": free_port() for service in discover()}
    output = data_dir.parent / f"{data_dir.name}-{time.monotonic_ns()}.log"
    nox = subprocess.Popen(  # noqa: S603 (fixed argv)
        [sys.executable, "-m", "nox", "-s", "dev", "--", "--data-dir", str(data_dir)],
        cwd=ROOT,
        env={**os.environ, **{name: str(port) for name, port in ports.items()}},
        stdout=output.open("wb"),
        stderr=subprocess.STDOUT,
        # Its own process group, as a terminal gives a foreground job: Ctrl-C reaches all of it.
        start_new_session=True,
    )
    stack = DevStack(nox, data_dir, output, f"http://127.0.0.1:{ports['GATEWAY_PORT']}")
    stack.wait_until_ready()
    return stack


def assert_all_gone(processes: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(processes, timeout=STOP_TIMEOUT_SECONDS)
    left = []
    for process in alive:
        with contextlib.suppress(psutil.Error):
            left.append(" ".join(process.cmdline()))
    assert left == []


Signal = Callable[[DevStack], None]


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A fresh data directory; whatever a failed test left running there is killed."""
    data_dir = tmp_path / "flotilla"
    yield data_dir
    for process in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if any(str(data_dir) in part for part in process.info["cmdline"] or []):
                process.kill()


def interrupt_terminal(stack: DevStack) -> None:
    os.killpg(stack.nox.pid, signal.SIGINT)


def signal_nox(signum: int) -> Signal:
    return lambda stack: os.kill(stack.nox.pid, signum)


def signal_launcher(signum: int) -> Signal:
    return lambda stack: stack.launcher().send_signal(signum)


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(interrupt_terminal, id="ctrl-c-in-a-terminal"),
        pytest.param(signal_nox(signal.SIGINT), id="sigint-to-nox"),
        pytest.param(signal_nox(signal.SIGTERM), id="sigterm-to-nox"),
        pytest.param(signal_launcher(signal.SIGINT), id="sigint-to-the-launcher"),
        pytest.param(signal_launcher(signal.SIGTERM), id="sigterm-to-the-launcher"),
    ],
)
def test_a_stop_signal_leaves_no_process_behind(send: Signal, data_dir: Path) -> None:
    stack = start_dev_stack(data_dir)
    processes = stack.processes()

    send(stack)

    assert_all_gone(processes)
    assert "[devstack] stopped" in stack.output.read_text()


def test_the_next_start_stops_what_a_killed_run_left_behind(data_dir: Path) -> None:
    killed = start_dev_stack(data_dir)
    leftovers = [p for p in killed.processes() if p.pid != killed.nox.pid]
    killed.launcher().kill()
    killed.nox.wait(timeout=STOP_TIMEOUT_SECONDS)

    restarted = start_dev_stack(data_dir)
    os.kill(restarted.nox.pid, signal.SIGINT)

    assert_all_gone([*leftovers, *restarted.processes()])
    log = restarted.output.read_text()
    for service in ("users", "items", "gateway"):
        assert f"stopping {service} (pid" in log
