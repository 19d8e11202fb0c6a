"""Schemathesis against the running stack: ``nox -s fuzz`` (``python -m tests_e2e.fuzz``).

The runner (``__main__``) starts or finds the stack, signs a user and the admin
in and describes them in :data:`target`; ``fuzz_api.py`` reads it when pytest
imports it, and records every request in :data:`tally` for the summary.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

#: The services whose OpenAPI documents are fuzzed, each at its own URL.
SERVICES = ("users", "items", "gateway")
ROLES = ("user", "admin")


@dataclass(frozen=True)
class Target:
    #: Service name -> base URL, for the services in :data:`SERVICES` that are reachable.
    urls: dict[str, str]
    #: Role (:data:`ROLES`) -> its ``Authorization`` header.
    auth: dict[str, dict[str, str]]
    max_examples: int
    stateful_max_steps: int


@dataclass
class Tally:
    #: (service, operation) -> requests sent.
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: (service, status) -> responses.
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    #: service -> check failures seen (the scenarios report them from here).
    failures: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    #: service -> scenario runs that Hypothesis could not replay because the data changed.
    inconclusive: Counter[str] = field(default_factory=Counter)

    def record(self, service: str, operation: str, status: int) -> None:
        self.requests[service, operation] += 1
        self.statuses[service, status] += 1


target: Target | None = None
tally = Tally()
