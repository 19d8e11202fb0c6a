"""Throughput and latency, side by side: items direct, through the gateway, the textbook app.

Every side of a comparison is measured in the same round, one after the
other, and the rounds alternate the order (A B C, then C B A, ...), so load
that other jobs put on the machine drifts over both sides alike. Ratios are
taken within a round and the median over the rounds is reported.
"""

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from drills.bench import load
from drills.bench.harness import SEEDED_ITEMS, say
from drills.bench.load import CpuClock, Request, Result

#: Saturating connections: the issue's figure.
CONNECTIONS = 50


@dataclass(frozen=True)
class Side:
    """One implementation under load: where it answers and whose CPU it uses."""

    name: str
    url: str
    measured: Sequence[CpuClock]


@dataclass(frozen=True)
class Endpoint:
    name: str
    #: Side name -> what to send it (the textbook app has its own paths).
    requests: dict[str, Request]
    #: Run after each saturating run of this endpoint (e.g. delete what it created).
    after_run: Callable[[], None] | None = None
    #: Also measured with one connection (the hop's own latency, without queueing).
    single_connection: bool = True


@dataclass
class Measurements:
    """Side name -> one result per round, saturated and with one connection."""

    saturated: dict[str, list[Result]] = field(default_factory=dict)
    single: dict[str, list[Result]] = field(default_factory=dict)

    def ratio(self, side: str, reference: str) -> float:
        """Median over rounds of side's req/s divided by reference's, same round."""
        pairs = zip(self.saturated[side], self.saturated[reference], strict=True)
        return statistics.median(a.requests_per_second / b.requests_per_second for a, b in pairs)

    def added_p50_ms(self, side: str, reference: str, *, single: bool) -> float:
        runs = self.single if single else self.saturated
        pairs = zip(runs[side], runs[reference], strict=True)
        return statistics.median(a.p50_ms - b.p50_ms for a, b in pairs)


def item_endpoints(token: str, reset: Callable[[], None]) -> list[Endpoint]:
    item_path = f"/api/v1/items/{SEEDED_ITEMS // 2}"
    create = Request(
        "/api/v1/items/",
        method="POST",
        body='{"name": "bench item", "description": "made by wrk", "price": 1250}',
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    return [
        Endpoint(
            "GET /api/v1/items/{id}",
            {
                "items": Request(item_path),
                "gateway": Request(item_path),
                "textbook": Request(f"/items/{SEEDED_ITEMS // 2}"),
            },
        ),
        Endpoint(
            "GET /api/v1/items/ (a page of 10)",
            {
                "items": Request("/api/v1/items/"),
                "gateway": Request("/api/v1/items/"),
                "textbook": Request("/items/"),
            },
        ),
        Endpoint("POST /api/v1/items/", {"items": create, "gateway": create}, after_run=reset),
    ]


def measure(
    endpoints: Sequence[Endpoint],
    sides: Sequence[Side],
    *,
    rounds: int,
    seconds: float,
    single_seconds: float,
) -> dict[str, Measurements]:
    """Endpoint name -> its measurements on every side that serves it."""
    by_name = {side.name: side for side in sides}
    results = {endpoint.name: Measurements() for endpoint in endpoints}
    say("warming up every side")
    for endpoint in endpoints:
        for side_name, request in endpoint.requests.items():
            if side_name in by_name:
                load.run(by_name[side_name].url, request, connections=CONNECTIONS, seconds=1)
        if endpoint.after_run is not None:
            endpoint.after_run()
    for round_number in range(rounds):
        order = list(sides) if round_number % 2 == 0 else list(reversed(sides))
        say(
            f"round {round_number + 1}/{rounds}: {' / '.join(s.name for s in order)}, "
            f"{CONNECTIONS} connections, {seconds:g} s each"
        )
        for endpoint in endpoints:
            measurements = results[endpoint.name]
            for side in order:
                if side.name not in endpoint.requests:
                    continue
                result = load.run(
                    side.url,
                    endpoint.requests[side.name],
                    connections=CONNECTIONS,
                    seconds=seconds,
                    measured=side.measured,
                )
                measurements.saturated.setdefault(side.name, []).append(result)
                if endpoint.after_run is not None:
                    endpoint.after_run()
            if not endpoint.single_connection:
                continue
            for side in order:
                if side.name not in endpoint.requests or side.name == "textbook":
                    continue
                result = load.run(
                    side.url,
                    endpoint.requests[side.name],
                    connections=1,
                    seconds=single_seconds,
                    measured=side.measured,
                )
                measurements.single.setdefault(side.name, []).append(result)
                if endpoint.after_run is not None:
                    endpoint.after_run()
    return results
