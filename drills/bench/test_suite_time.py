"""The wall time of ``nox -s tests-3.11`` when its virtualenvs already exist."""

import os
import shutil
import subprocess
import time

from drills.bench.harness import say
from flotilla.devstack.registry import REPO_ROOT

SESSION = "tests-3.11"


def measure() -> float | str:
    """Seconds, or why it could not be measured."""
    nox = shutil.which("nox")
    if nox is None:
        return "n/a (nox is not on PATH)"
    # The embedded Postgres, as on a machine with only Python; Testcontainers would
    # depend on which images the local Docker engine happens to have.
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}  # not the bench's venv
    env["TEST_DB_PROVIDER"] = "embedded"
    say(f"nox -s {SESSION} --install-only (so that its virtualenvs exist)")
    install = [nox, "-s", SESSION, "--install-only"]
    prepared = subprocess.run(install, cwd=REPO_ROOT, env=env, capture_output=True, check=False)  # noqa: S603 (fixed argv)
    if prepared.returncode != 0:
        return "n/a (installing the sessions failed)"
    say(f"nox -s {SESSION} (timed)")
    started = time.perf_counter()
    completed = subprocess.run(  # noqa: S603 (fixed argv)
        [nox, "-s", SESSION], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        return f"failed after {elapsed:.0f} s (see nox -s {SESSION})"
    return elapsed
