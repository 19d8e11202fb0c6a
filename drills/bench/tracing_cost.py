"""What tracing costs: items GET-by-id through the gateway, tracing off vs on.

"Off" is the stack the other parts measure (no ``OTEL_*`` variables). "On" is
a second items and gateway, started with ``OTEL_EXPORTER_OTLP_ENDPOINT``
pointing at the repo's OTLP/HTTP receiver (``flotilla.testing.otlp``), run as
its own process: every request is sampled, and both processes export their
spans through the batch span processor. The two sides alternate within each
round (``drills.bench.speed``); the receiver's CPU is reported apart from the stack's.
"""

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from drills.bench import harness, speed
from drills.bench.harness import SEEDED_ITEMS, Service
from drills.bench.load import CpuClock, Request, median
from drills.bench.report import Row
from flotilla.devstack.services import ServiceSpec, gateway_upstreams
from flotilla.testing.servers import free_port

ON_VS_OFF_RATIO = 0.85
ENDPOINT = "GET /api/v1/items/{id}, through the gateway"
OFF, ON = "tracing off", "tracing on"
RECEIVER = "otlp-receiver"


@dataclass
class Receiver:
    """The OTLP/HTTP receiver process; its CPU is charged apart from the stack's."""

    popen: subprocess.Popen[bytes]
    endpoint: str
    name: str = RECEIVER

    def cpu_seconds(self) -> float:
        return harness.process_cpu_seconds(self.popen.pid)


@contextlib.contextmanager
def receiver_process(log_dir: Path) -> Iterator[Receiver]:
    port = free_port()
    command = [sys.executable, "-m", "flotilla.testing.otlp", "--port", str(port)]
    with (log_dir / "otlp-receiver.log").open("wb") as output:
        popen = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603 (fixed argv)
    try:
        deadline = time.monotonic() + harness.START_TIMEOUT_SECONDS
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if popen.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the OTLP receiver did not start")
            time.sleep(0.1)
        yield Receiver(popen, f"http://127.0.0.1:{port}")
    finally:
        popen.terminate()
        popen.wait(timeout=harness.STOP_TIMEOUT_SECONDS)


def start_traced(
    stack: contextlib.ExitStack,
    specs: list[ServiceSpec],
    database_urls: dict[str, str],
    log_dir: Path,
    log_level: str,
) -> tuple[Receiver, Service, Service]:
    """The receiver, then a second items and a gateway in front of it that export to it."""
    receiver = stack.enter_context(receiver_process(log_dir))
    tracing = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
    spec = {s.name: s for s in specs}
    items = harness.start_instance(
        spec["items"],
        database_urls["items"],
        log_dir,
        suffix="-traced",
        env={**tracing, "ITEMS_LOG_LEVEL": log_level},
    )
    # The gateway's other upstreams are the stack's own.
    gateway = harness.start_instance(
        spec["gateway"],
        None,
        log_dir,
        suffix="-traced",
        env={
            **tracing,
            **gateway_upstreams({spec["items"].service: items.url}),
            "GATEWAY_LOG_LEVEL": log_level,
        },
    )
    stack.callback(harness.stop, [gateway, items])
    harness.wait_until_ready([items, gateway])
    return receiver, items, gateway


def measure(
    off: tuple[Service, Service],
    on: tuple[Service, Service],
    receiver: Receiver,
    postgres: list[CpuClock],
    *,
    rounds: int,
    seconds: float,
) -> speed.Measurements:
    """``off`` and ``on`` are (items, gateway) pairs."""
    item = Request(f"/api/v1/items/{SEEDED_ITEMS // 2}")
    sides = [
        speed.Side(OFF, off[1].url, [*off, *postgres]),
        speed.Side(ON, on[1].url, [*on, receiver, *postgres]),
    ]
    endpoint = speed.Endpoint(ENDPOINT, {OFF: item, ON: item}, single_connection=False)
    results = speed.measure([endpoint], sides, rounds=rounds, seconds=seconds, single_seconds=0)
    return results[ENDPOINT]


def rows(m: speed.Measurements) -> list[Row]:
    off, on = median(m.saturated[OFF]), median(m.saturated[ON])
    ratio = m.ratio(ON, OFF)

    def stack_cpu(result_cpu: dict[str, float], suffix: str) -> float:
        return result_cpu[f"items{suffix}"] + result_cpu[f"gateway{suffix}"]

    off_cpu = stack_cpu(off.cpu_ms_per_request, "")
    on_cpu = stack_cpu(on.cpu_ms_per_request, "-traced")
    return [
        Row(
            "6",
            f"tracing on (100% sampled, exported) vs off, {ENDPOINT}",
            f"{ratio:.2f}x ({on.requests_per_second:.0f} vs {off.requests_per_second:.0f} req/s)",
            f">= {ON_VS_OFF_RATIO:g}x",
            ratio >= ON_VS_OFF_RATIO,
        ),
        Row(
            "",
            "  CPU per request, items + gateway: off vs on",
            f"{off_cpu:.3f} vs {on_cpu:.3f} ms ({on_cpu - off_cpu:+.3f} ms)",
            "context",
        ),
        Row(
            "",
            "  OTLP receiver CPU per request (apart)",
            f"{on.cpu_ms_per_request[RECEIVER]:.3f} ms",
            "context",
        ),
    ]
