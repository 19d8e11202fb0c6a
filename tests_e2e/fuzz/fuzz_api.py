"""Each service's OpenAPI document, fuzzed by Schemathesis on the running stack.

Run by ``python -m tests_e2e.fuzz`` (``nox -s fuzz``), which names this file
explicitly: its name keeps it out of the ordinary e2e run.

Every operation is tested twice, as a signed-in user and as the admin (the
admin skips operations without authentication, and never changes its own
password, which other suites log in with); then scenarios chain operations
through the links Schemathesis infers (create an item, read, change, delete
it), as the user. Checks: no 5xx, every status code documented, every response
conforming to its schema, and authentication not ignored where it is required.
"""

from typing import Any

import hypothesis
import pytest
import schemathesis

from tests_e2e import fuzz

if fuzz.target is None:
    pytest.skip("run by python -m tests_e2e.fuzz, which starts the stack", allow_module_level=True)
TARGET = fuzz.target

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "ignored_auth",
)
CONFIG = schemathesis.Config.from_dict(
    {
        "request-timeout": 30,
        # The user's token unless a test passes another (the scenarios run as the user).
        "headers": TARGET.auth["user"],
        "generation": {"max-examples": TARGET.max_examples, "database": "none"},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "phases": {"stateful": {"max-steps": TARGET.stateful_max_steps}},
    }
)
#: The admin's own password stays as it is: it is the stack's, other suites sign in with it.
ADMIN_SKIPS = frozenset({"PATCH /api/v1/users/me"})

Case = schemathesis.Case[Any]
Operation = schemathesis.APIOperation[Any, Any, Any, Any]


def load(service: str) -> schemathesis.BaseSchema:
    url = TARGET.urls.get(service)
    if url is None:
        # Nothing to test: a given stack need not expose its services directly.
        return schemathesis.openapi.from_dict(
            {"openapi": "3.1.0", "info": {"title": service, "version": "0"}, "paths": {}}
        )
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=CONFIG)

    @schema.hook
    def after_call(context: schemathesis.HookContext, case: Case, response: Any) -> None:
        fuzz.tally.record(service, case.operation.label, response.status_code)

    @schema.hook
    def after_validate(
        context: schemathesis.HookContext,
        case: Case,
        response: Any,
        results: list[schemathesis.CheckResult],
    ) -> None:
        for result in results:
            if result.failure is not None:
                fuzz.tally.failures[service].append(f"{case.operation.label}: {result.failure}")

    return schema


users = load("users")
items = load("items")
gateway = load("gateway")


def requires_auth(operation: Operation) -> bool:
    definition: dict[str, Any] = operation.definition.raw
    return bool(definition.get("security"))


def exercise(case: Case, role: str) -> None:
    if role == "admin" and not requires_auth(case.operation):
        pytest.skip("public operation: the user role covers it")
    if role == "admin" and case.operation.label in ADMIN_SKIPS:
        pytest.skip("the admin keeps its password")
    case.call_and_validate(headers=TARGET.auth[role])


@users.parametrize()
@pytest.mark.parametrize("role", fuzz.ROLES)
def test_users(case: Case, role: str) -> None:
    exercise(case, role)


@items.parametrize()
@pytest.mark.parametrize("role", fuzz.ROLES)
def test_items(case: Case, role: str) -> None:
    exercise(case, role)


@gateway.parametrize()
@pytest.mark.parametrize("role", fuzz.ROLES)
def test_gateway(case: Case, role: str) -> None:
    exercise(case, role)


@pytest.mark.parametrize("service", fuzz.SERVICES)
def test_scenarios(service: str) -> None:
    """Chains of operations; a check that fails in any of them fails this test."""
    if service not in TARGET.urls:
        pytest.skip(f"{service} is not reachable directly")
    schema = {"users": users, "items": items, "gateway": gateway}[service]
    fuzz.tally.failures[service].clear()
    settings = hypothesis.settings(max_examples=TARGET.max_examples, deadline=None, database=None)
    try:
        schema.as_state_machine().run(settings=settings)
    except hypothesis.errors.Flaky:
        # The stack's data changed under a replayed scenario (as the Schemathesis
        # CLI does, count it as inconclusive unless a check failed in a scenario).
        fuzz.tally.inconclusive[service] += 1
    if fuzz.tally.failures[service]:
        pytest.fail("\n".join(dict.fromkeys(fuzz.tally.failures[service])))
