"""What test isolation costs: the plugin's SAVEPOINT scheme vs recreating tables per test.

The same test bodies (``drills/bench/isolation/tests``, typical items tests) run in
one pytest process on the benchmark's Postgres, each body under three
``session`` fixtures one after the other:

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

from drills.bench.harness import say
from flotilla.devstack.registry import REPO_ROOT

TESTS = Path(__file__).parent / "tests"
MODES = ("bare", "savepoint", "recreate")
#: Each body runs this many times under each mode.
REPEATS = 40


@dataclass(frozen=True)
class Isolation:
    #: Mode -> median milliseconds per test (setup + call + teardown).
    per_test_ms: dict[str, float]
    tests_per_mode: int

    def own_cost_ms(self, mode: str) -> float:
        return self.per_test_ms[mode] - self.per_test_ms["bare"]

    @property
    def ratio(self) -> float:
        """How many times cheaper the savepoint scheme is than recreating tables.

        A savepoint costs so little that noise can hide it: below 0.01 ms per
        test it counts as 0.01 ms, which keeps the ratio finite (and conservative).
        """
        return self.own_cost_ms("recreate") / max(self.own_cost_ms("savepoint"), 0.01)


def _run(server_url: URL, durations: Path) -> dict[str, list[float]]:
    """Mode -> seconds per test (setup + call + teardown), in the order they ran."""
    env = {
        **os.environ,
        "TEST_DB_PROVIDER": "url",
        "TEST_DATABASE_URL": server_url.render_as_string(hide_password=False),
        "BENCH_REPEATS": str(REPEATS),
        "BENCH_DURATIONS": str(durations),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", "pytest", "-c", str(TESTS / "pytest.ini"), str(TESTS), "-q"]
    completed = subprocess.run(  # noqa: S603 (fixed argv)
        command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"isolation tests failed:\n{completed.stdout[-3000:]}")
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    for test_id, phases in json.loads(durations.read_text()).items():
        mode = test_id.rsplit("[", 1)[1].split("-", 1)[0]
        times[mode].append(sum(phases.get(k, 0.0) for k in ("setup", "call", "teardown")))
    return times


def measure(server_url: URL) -> Isolation:
    say(f"test isolation: the same bodies under {', '.join(MODES)}, interleaved")
    with tempfile.TemporaryDirectory(prefix="flotilla-bench-") as work:
        times = _run(server_url, Path(work) / "durations.json")
    return Isolation(
        # The first test of each mode also pays its one-time set-up (databases, engines).
        per_test_ms={mode: statistics.median(t[1:]) * 1000 for mode, t in times.items()},
        tests_per_mode=len(times["bare"]),
    )
