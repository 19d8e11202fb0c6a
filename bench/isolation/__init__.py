"""What test isolation costs: the plugin's SAVEPOINT scheme vs recreating tables per test.

The same test bodies (``bench/isolation/tests``, typical items tests) run
under three ``db_session`` fixtures, each in its own pytest process on the
benchmark's Postgres:

- ``bare``: a session that is never committed, with no isolation machinery:
  the floor that any database test pays (pytest, the body, its queries);
- ``savepoint``: the flotilla plugin's ``db_session``;
- ``recreate``: the seed article's ``create_all``/``drop_all`` around each test.

A scheme's own cost per test is its median per-test time minus the bare one.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from bench.harness import REPO_ROOT, say

TESTS = Path(__file__).parent / "tests"
MODES = ("bare", "savepoint", "recreate")
#: Each body runs this many times per mode and round.
REPEATS = 25


@dataclass(frozen=True)
class Isolation:
    #: Mode -> median milliseconds per test (setup + call + teardown).
    per_test_ms: dict[str, float]
    tests_per_mode: int

    def own_cost_ms(self, mode: str) -> float:
        return self.per_test_ms[mode] - self.per_test_ms["bare"]

    @property
    def ratio(self) -> float:
        """How many times cheaper the savepoint scheme is than recreating tables."""
        return self.own_cost_ms("recreate") / max(self.own_cost_ms("savepoint"), 1e-3)


def _run(mode: str, server_url: URL, durations: Path) -> list[float]:
    env = {
        **os.environ,
        "TEST_DB_PROVIDER": "url",
        "TEST_DATABASE_URL": server_url.render_as_string(hide_password=False),
        "BENCH_ISOLATION": mode,
        "BENCH_REPEATS": str(REPEATS),
        "BENCH_DURATIONS": str(durations),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", "pytest", "-c", str(TESTS / "pytest.ini"), str(TESTS), "-q"]
    completed = subprocess.run(  # noqa: S603 (fixed argv)
        command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"isolation tests ({mode}) failed:\n{completed.stdout[-3000:]}")
    phases = json.loads(durations.read_text())
    return [sum(p.get(k, 0.0) for k in ("setup", "call", "teardown")) for p in phases.values()]


def measure(server_url: URL, *, rounds: int = 2) -> Isolation:
    say(f"test isolation: {', '.join(MODES)}, {rounds} rounds of pytest runs")
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="flotilla-bench-") as work:
        for round_number in range(rounds):
            order = MODES if round_number % 2 == 0 else tuple(reversed(MODES))
            for mode in order:
                durations = Path(work) / f"{mode}-{round_number}.json"
                per_test = _run(mode, server_url, durations)
                times[mode] += per_test[1:]  # the first test also pays the one-time set-up
    return Isolation(
        per_test_ms={mode: statistics.median(values) * 1000 for mode, values in times.items()},
        tests_per_mode=len(times["bare"]) // rounds + 1,
    )
