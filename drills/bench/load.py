"""Load generation with ``wrk`` (Debian: ``apt-get install -y wrk``) and its results.

Each run also reads the CPU time the measured processes spent during it, so
every figure comes with CPU milliseconds per request: on a shared, loaded
machine that varies much less than requests per second do.
"""

import re
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

_LATENCY = re.compile(r"^\s*(50|90|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


class CpuClock(Protocol):
    """Something whose CPU time a run charges per request: a service, Postgres."""

    @property
    def name(self) -> str: ...

    def cpu_seconds(self) -> float: ...


@dataclass(frozen=True)
class Request:
    """What wrk sends; a GET of ``path`` unless told otherwise."""

    path: str
    method: str = "GET"
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Each connection waits this long before each request (a paced client).
    pause_ms: int = 0
    #: Form bodies sent in turn (one per request), e.g. logins of different users.
    rotating_bodies: Sequence[str] = ()

    def lua(self) -> str:
        """The wrk script for this request (an empty script is a plain GET)."""
        lines = [f"wrk.method = {_lua_string(self.method)}"]
        if self.body:
            lines.append(f"wrk.body = {_lua_string(self.body)}")
        lines += [
            f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}"
            for name, value in self.headers.items()
        ]
        if self.rotating_bodies:
            bodies = ", ".join(_lua_string(body) for body in self.rotating_bodies)
            lines += [
                f"local bodies = {{{bodies}}}",
                "local turn = 0",
                "function request()",
                "  turn = turn % #bodies + 1",
                "  return wrk.format(nil, nil, nil, bodies[turn])",
                "end",
            ]
        if self.pause_ms:
            lines.append(f"function delay() return {self.pause_ms} end")
        return "\n".join(lines) + "\n"


def _lua_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


@dataclass(frozen=True)
class Result:
    requests: int
    requests_per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    #: Non-2xx/3xx responses plus socket errors.
    errors: int
    #: Process name -> CPU milliseconds it spent per request during the run.
    cpu_ms_per_request: dict[str, float]


def wrk_executable() -> str:
    executable = shutil.which("wrk")
    if executable is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    return executable


def _number(pattern: str, text: str, default: float | None = None) -> float:
    match = re.search(pattern, text)
    if match is None:
        if default is None:
            raise SystemExit(f"unexpected wrk output:\n{text}")
        return default
    return float(match.group(1))


def parse(output: str) -> tuple[int, float, dict[str, float], int]:
    """Requests, requests/s, latency percentiles (ms) and errors from ``wrk --latency``."""
    latency = {p: float(v) * _UNIT_MS[u] for p, v, u in _LATENCY.findall(output)}
    errors = int(_number(r"Non-2xx or 3xx responses: (\d+)", output, default=0))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket_errors is not None:
        errors += sum(int(n) for n in socket_errors.groups())
    return (
        int(_number(r"(\d+) requests in", output)),
        _number(r"Requests/sec:\s+([\d.]+)", output),
        latency,
        errors,
    )


#: wrk counts a request as a timeout error after this long (its default is 2 s).
TIMEOUT_SECONDS = 30


def wrk_command(base_url: str, request: Request, *, connections: int, seconds: float) -> list[str]:
    """The command line, without the script (``run`` adds it)."""
    duration = f"{max(1, round(seconds))}s"
    options = [f"-c{connections}", f"-d{duration}", f"--timeout={TIMEOUT_SECONDS}s", "--latency"]
    return [wrk_executable(), "-t1", *options, base_url + request.path]


def run(
    base_url: str,
    request: Request,
    *,
    connections: int,
    seconds: float,
    measured: Sequence[CpuClock] = (),
) -> Result:
    """One wrk run against ``base_url``; CPU per request of each of ``measured``."""
    command = wrk_command(base_url, request, connections=connections, seconds=seconds)
    with tempfile.TemporaryDirectory(prefix="flotilla-bench-") as script_dir:
        script = Path(script_dir) / "request.lua"
        script.write_text(request.lua())
        command[1:1] = ["-s", str(script)]
        cpu_before = {clock.name: clock.cpu_seconds() for clock in measured}
        completed = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603 (fixed argv)
        cpu_after = {clock.name: clock.cpu_seconds() for clock in measured}
    total, per_second, latency, errors = parse(completed.stdout)
    return Result(
        requests=total,
        requests_per_second=per_second,
        p50_ms=latency["50"],
        p90_ms=latency["90"],
        p99_ms=latency["99"],
        errors=errors,
        cpu_ms_per_request={
            name: (cpu_after[name] - cpu_before[name]) * 1000 / max(total, 1) for name in cpu_before
        },
    )


def start(
    base_url: str, request: Request, *, connections: int, seconds: float, script_dir: Path
) -> subprocess.Popen[str]:
    """A wrk run in the background (e.g. the load while another run measures); ``finish`` it."""
    command = wrk_command(base_url, request, connections=connections, seconds=seconds)
    script = script_dir / f"background-{len(list(script_dir.iterdir()))}.lua"
    script.write_text(request.lua())
    command[1:1] = ["-s", str(script)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603 (fixed argv)


def finish(process: subprocess.Popen[str]) -> tuple[int, float, int]:
    """Requests, requests/s and errors of a background run, once it has ended."""
    output, _ = process.communicate()
    total, per_second, _, errors = parse(output)
    return total, per_second, errors


def median(results: Sequence[Result]) -> Result:
    """Each figure's median over the rounds (with one round: that round)."""
    return Result(
        requests=sum(r.requests for r in results),
        requests_per_second=statistics.median(r.requests_per_second for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p90_ms=statistics.median(r.p90_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        errors=sum(r.errors for r in results),
        cpu_ms_per_request={
            name: statistics.median(r.cpu_ms_per_request[name] for r in results)
            for name in results[0].cpu_ms_per_request
        },
    )
