"""Fuzz the stack's OpenAPI documents (``nox -s fuzz``).

    python -m tests_e2e.fuzz [--max-examples N] [--max-steps N] [-- PYTEST ARGS]

Starts a fresh dev stack (or uses ``GATEWAY_URL``; ``USERS_URL`` and
``ITEMS_URL`` add the services behind it), signs in a new user and the
admin, runs ``fuzz_api.py`` under pytest and prints how many operations and
requests were tested. Exits with pytest's status.
"""

import argparse
import sys
from pathlib import Path

import httpx
import pytest

from tests_e2e import fuzz
from tests_e2e.conftest import log_in, sign_up, unique_email
from tests_e2e.stack import Stack, stack_under_test

TESTS = Path(__file__).with_name("fuzz_api.py")
REPORTS = Path(__file__).resolve().parents[2] / "build" / "reports"


def sign_in(stack: Stack) -> dict[str, dict[str, str]]:
    """Role -> auth header: a newly registered user and the stack's admin."""
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        _, user = sign_up(client, unique_email("fuzz"))
        return {"user": user, "admin": log_in(client, stack.admin_email, stack.admin_password)}


def report(target: fuzz.Target) -> None:
    print("\nfuzz summary (requests include Schemathesis's own re-sends, e.g. without auth)")
    for service in fuzz.SERVICES:
        if service not in target.urls:
            print(f"  {service:8} not reachable directly: skipped")
            continue
        operations = {op for (name, op) in fuzz.tally.requests if name == service}
        requests = sum(n for (name, _), n in fuzz.tally.requests.items() if name == service)
        statuses = sorted((s, n) for (name, s), n in fuzz.tally.statuses.items() if name == service)
        by_status = ", ".join(f"{status}: {count}" for status, count in statuses)
        print(f"  {service:8} {len(operations):3} operations {requests:6} requests  ({by_status})")
    total = sum(fuzz.tally.requests.values())
    print(f"  total    {len(fuzz.tally.requests):3} operations {total:6} requests")
    for service, count in fuzz.tally.inconclusive.items():
        print(f"  {service}: {count} scenario run(s) inconclusive (data changed under a replay)")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests_e2e.fuzz", description=__doc__)
    parser.add_argument(
        "--max-examples", type=int, default=50, help="generated cases per operation and role"
    )
    parser.add_argument("--max-steps", type=int, default=8, help="operations per stateful scenario")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = parser.parse_args()
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "fuzz-stack.log").unlink(missing_ok=True)
    with stack_under_test(log_file=REPORTS / "fuzz-stack.log") as stack:
        fuzz.target = fuzz.Target(
            urls={s: url for s, url in stack.service_urls.items() if s in fuzz.SERVICES},
            auth=sign_in(stack),
            max_examples=args.max_examples,
            stateful_max_steps=args.max_steps,
        )
        if stack.data_dir is not None:
            print(f"fuzz: the services log to {REPORTS / 'fuzz-stack.log'}", flush=True)
        status = pytest.main(
            [
                str(TESTS),
                "-p",
                "no:cacheprovider",
                # httpx (so anyio) is imported before pytest starts: nothing to rewrite there.
                "-W",
                "ignore::pytest.PytestAssertRewriteWarning",
                f"--junitxml={REPORTS / 'junit-fuzz.xml'}",
                *args.pytest_args,
            ]
        )
        report(fuzz.target)
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
