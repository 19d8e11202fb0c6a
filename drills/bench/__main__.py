"""Flotilla's benchmark suite: ``nox -s bench`` (or ``python -m drills.bench`` from the repo root).

One run starts an embedded Postgres (or uses ``DATABASE_URL``) and starts the
services as the dev stack does (``flotilla.devstack.launch``): every registered
service (users, items, the gateway, and any other) with its own migrated
database, one uvicorn process with one worker each on loopback. It seeds the
items database, starts the textbook baseline (``drills/bench/baselines``) on
it, measures, stops everything and prints one table: every figure with its
target and a pass/miss mark, then the absolute numbers.

1. Gateway hop: GET one item, GET a page, POST an item, direct vs through the gateway.
2. Items service vs the textbook implementation: GET one item, GET a page.
3. Login does not stall the users service: ``/healthz`` p99 idle vs under 20 logins;
   what a session refresh costs next to a login (p50, 20 clients).
4. Test-suite speed: the cost of the savepoint isolation vs recreating tables per
   test; the wall time of ``nox -s tests-3.11`` with existing virtualenvs.
5. Footprint: RSS of each service after start and after the load; image sizes.
6. Tracing: items GET-by-id through the gateway with tracing off vs on (every request
   sampled, spans exported to a local OTLP/HTTP receiver, whose CPU is reported apart).

A benchmark, not a test: it reports, and exits 0 whether targets are met or not.
"""

import argparse
import contextlib
import dataclasses
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from drills.bench import (
    footprint,
    harness,
    isolation,
    login_stall,
    report,
    sessions,
    speed,
    test_suite_time,
    tracing_cost,
)
from drills.bench.harness import Service, say
from drills.bench.load import CpuClock, Result, median
from drills.bench.report import Row
from flotilla.devstack.services import ServiceSpec
from flotilla.testing.postgres import admin_connect

HOP_RATIO = 0.8
HOP_ADDED_P50_MS = 2.0
TEXTBOOK_RATIO = 3.0
LOGIN_P99_RATIO = 5.0
ISOLATION_RATIO = 10.0
PARTS = ("speed", "login", "sessions", "isolation", "test-suite", "tracing")


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor() or "unknown CPU",
    )
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    python = platform.python_version()
    return f"{os.cpu_count()} CPUs ({model}), load average {load}, Python {python}"


def wrk_version() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        return "wrk missing"
    completed = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)  # noqa: S603 (fixed argv)
    return (completed.stdout or completed.stderr).split("Copyright")[0].strip()


def postgres_version(database_url: str) -> str:
    with admin_connect(make_url(database_url)) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


#: The order the report lists the services in; any other registered service follows.
REPORT_ORDER = ("users", "items", "gateway")


def report_order(name: str) -> tuple[int, str]:
    return (REPORT_ORDER.index(name) if name in REPORT_ORDER else len(REPORT_ORDER), name)


@dataclasses.dataclass
class Started:
    """What the run started: the processes by name (the textbook app last), and for
    each registered service its spec and database."""

    services: dict[str, Service]
    specs: list[ServiceSpec]
    database_urls: dict[str, str]


def start_services(
    stack: contextlib.ExitStack, pg: harness.PostgresServer, log_dir: Path, log_level: str
) -> Started:
    """Every registered service (users, items, the gateway, ...) and the textbook app, answering.

    They start as the dev stack starts them: each service with its own migrated
    database; the items database seeded, and read by the textbook app too.
    """
    specs = harness.service_specs(log_dir)
    database_urls = stack.enter_context(harness.migrated_databases(pg.url, specs))
    harness.seed_items(database_urls["items"])
    say(f"databases migrated; {harness.SEEDED_ITEMS} items seeded")
    started: list[Service] = []
    stack.callback(lambda: harness.stop(started))
    log_levels = {f"{spec.service.env_prefix}LOG_LEVEL": log_level for spec in specs}
    started += harness.start(specs, database_urls, log_dir, log_levels)
    started.append(harness.start_textbook(database_urls["items"], log_dir))
    harness.wait_until_ready(started)
    *ours, textbook = started
    services = {s.name: s for s in sorted(ours, key=lambda s: report_order(s.name))}
    services[textbook.name] = textbook
    say("running: " + ", ".join(f"{name} {s.url}" for name, s in services.items()))
    return Started(services, specs, database_urls)


def throughput_row(
    number: str,
    what: str,
    m: speed.Measurements,
    side: str,
    reference: str,
    target: float,
    *,
    versus: str = "",
) -> Row:
    """``side``'s throughput as a multiple of ``reference``'s, judged against ``target``."""
    ratio = m.ratio(side, reference)
    ours, theirs = median(m.saturated[side]), median(m.saturated[reference])
    return Row(
        number,
        what,
        f"{ratio:.2f}x{versus} ({ours.requests_per_second:.0f} vs "
        f"{theirs.requests_per_second:.0f} req/s)",
        f">= {target:g}x",
        ratio >= target,
    )


def speed_rows(results: dict[str, speed.Measurements]) -> list[Row]:
    rows = []
    endpoints = list(results)
    for number, (endpoint, m) in enumerate(results.items()):
        gateway, direct = median(m.saturated["gateway"]), median(m.saturated["items"])
        number_label = "1" if number == 0 else ""
        label = f"gateway hop, {endpoint}: throughput"
        rows.append(
            throughput_row(number_label, label, m, "gateway", "items", HOP_RATIO, versus=" direct")
        )
        gateway_cpu = gateway.cpu_ms_per_request["gateway"]
        items_cpu = direct.cpu_ms_per_request["items"]
        rows.append(
            Row(
                "",
                "  CPU per request: gateway process vs items",
                f"{gateway_cpu:.2f} vs {items_cpu:.2f} ms (per core: "
                f"{1000 / gateway_cpu:.0f} vs {1000 / items_cpu:.0f} req/s)",
                "context, see note",
            )
        )
        single_g, single_d = median(m.single["gateway"]), median(m.single["items"])
        added = m.added_p50_ms("gateway", "items", single=True)
        rows.append(
            Row(
                "",
                "  added p50, 1 connection (the hop's cost)",
                f"{added:+.2f} ms ({single_g.p50_ms:.2f} vs {single_d.p50_ms:.2f} ms)",
                f"<= {HOP_ADDED_P50_MS:g} ms",
                added <= HOP_ADDED_P50_MS,
            )
        )
        rows.append(
            Row(
                "",
                f"  added p50, {speed.CONNECTIONS} connections (queueing)",
                f"{m.added_p50_ms('gateway', 'items', single=False):+.1f} ms "
                f"({gateway.p50_ms:.1f} vs {direct.p50_ms:.1f} ms)",
                "context, see note",
            )
        )
    for number, endpoint in enumerate(e for e in endpoints if "textbook" in results[e].saturated):
        m = results[endpoint]
        ours, textbook = median(m.saturated["items"]), median(m.saturated["textbook"])
        number_label = "2" if number == 0 else ""
        label = f"items vs textbook, {endpoint}"
        rows.append(throughput_row(number_label, label, m, "items", "textbook", TEXTBOOK_RATIO))
        ours_cpu = ours.cpu_ms_per_request["items"]
        textbook_cpu = textbook.cpu_ms_per_request["textbook"]
        rows.append(
            Row(
                "",
                "  CPU per request: items vs textbook",
                f"{ours_cpu:.2f} vs {textbook_cpu:.2f} ms ({textbook_cpu / ours_cpu:.1f}x less)",
                "context",
            )
        )
    return rows


def login_rows(stall: login_stall.LoginStall) -> list[Row]:
    return [
        Row(
            "3",
            f"users /healthz p99, {login_stall.LOGIN_CONNECTIONS} logins vs idle",
            f"{stall.p99_ratio:.2f}x ({stall.loaded_p99_ms:.2f} vs {stall.idle_p99_ms:.2f} ms)",
            f"<= {LOGIN_P99_RATIO:g}x",
            stall.p99_ratio <= LOGIN_P99_RATIO,
        ),
        Row(
            "",
            "  logins during the probe",
            f"{stall.logins_per_second:.1f}/s ({stall.logins} logins, {stall.login_errors} errors)",
        ),
    ]


def session_rows(cost: sessions.SessionCost) -> list[Row]:
    login, refresh = cost.login, cost.refresh
    return [
        Row(
            "",
            f"users refresh vs login p50, {sessions.CLIENTS} clients",
            f"{refresh.p50_ms:.1f} vs {login.p50_ms:.0f} ms",
        ),
        *(
            Row(
                "",
                f"  {name}: p50 / p99, rate",
                f"{run.p50_ms:.1f} / {run.p99_ms:.1f} ms, {run.per_second:.1f}/s, "
                f"users CPU {run.cpu_ms_per_request:.2f} ms/request "
                f"({len(run.samples_ms)} requests, errors: {dict(run.errors) or 'none'})",
            )
            for name, run in (("refresh", refresh), ("login", login))
        ),
    ]


def isolation_rows(result: isolation.Isolation | None, suite: float | str | None) -> list[Row]:
    rows = []
    if result is not None:
        ms = result.per_test_ms
        rows += [
            Row(
                "",
                "test isolation's own cost per test, recreate / savepoint",
                f"{result.ratio:.0f}x cheaper ({result.own_cost_ms('savepoint'):.2f} vs "
                f"{result.own_cost_ms('recreate'):.2f} ms)",
                f">= {ISOLATION_RATIO:g}x",
                result.ratio >= ISOLATION_RATIO,
            ),
            Row(
                "",
                "  per test, same bodies: bare / savepoint / recreate",
                f"{ms['bare']:.2f} / {ms['savepoint']:.2f} / {ms['recreate']:.2f} ms",
                f"{result.tests_per_mode} tests each",
            ),
        ]
    if suite is not None:
        measured = f"{suite:.0f} s" if isinstance(suite, float) else suite
        rows.append(Row("", f"nox -s {test_suite_time.SESSION}, existing virtualenvs", measured))
    return [dataclasses.replace(rows[0], number="4"), *rows[1:]] if rows else rows


def footprint_rows(
    started: dict[str, float],
    loaded: dict[str, float],
    services: list[str],
    images: dict[str, str] | None,
) -> list[Row]:
    rows = [
        Row(
            "5" if number == 0 else "",
            f"RSS of {name}: after start -> after the load",
            f"{started[name]:.0f} -> {loaded[name]:.0f} MiB" if name in loaded else "n/a",
        )
        for number, name in enumerate(started)
    ]
    if images is None:
        rows.append(Row("", "images flotilla/<service>:latest", "n/a (no Docker engine answers)"))
    else:
        rows += [
            Row("", f"image flotilla/{name}:latest", images.get(name, "not built"))
            for name in services
        ]
    return rows


NOTES = f"""\
Notes
- Ratios are per round (the sides measured back to back, their order alternating
  between rounds), then the median over the rounds; absolute figures are medians.
- Gateway hop: at {speed.CONNECTIONS} connections p50 is mostly queueing (p50 is about
  connections / throughput), so its added p50 restates the throughput ratio. The
  target is judged on the added p50 with one connection: what a request pays for
  the extra hop when nothing queues. Gateway and items share this machine's cores
  with wrk and Postgres: once the cores are saturated (other jobs too), the
  throughput ratio falls toward items CPU / (items + gateway CPU) per request.
  "Per core" is what each process could carry on a core of its own.
- Items vs textbook: same Postgres and table, one uvicorn worker each; items as
  shipped (request ids, Prometheus metrics, one JSON access line per request at
  INFO); the textbook app as the seed article writes it (drills/bench/baselines).
- CPU ms per request: CPU the process spent during a run / requests it served.
  On a shared machine it varies much less than req/s.
- Login: each round probes /healthz on the idle service, then while 20 clients log
  in back to back; the ratio is the median over rounds of loaded / idle p99.
- Sessions: 20 clients, each its own user, log in back to back for the login time,
  then refresh back to back (each refresh spends the token the last one returned).
- Tracing: "off" is the stack of the other parts; "on" a second items and gateway
  exporting every request's spans (OTLP/HTTP protobuf, batch span processor) to the
  repo's receiver, a process of its own whose CPU is not counted in the ratio.
- Test isolation's own cost: a scheme's median time per test minus that of the same
  bodies on a bare session (never committed: pytest, body and queries, no scheme),
  the three interleaved body by body in one pytest run.
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m drills.bench",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=4, help="per saturated run (4)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--single-seconds", type=float, default=2, help="per 1-connection run (2)")
    parser.add_argument("--login-seconds", type=float, default=4, help="per login probe (4)")
    parser.add_argument("--skip", action="append", choices=PARTS, default=[], help="skip a part")
    parser.add_argument("--log-level", default="INFO", help="of the services (INFO: as shipped)")
    args = parser.parse_args()
    # Where tracing is on is the benchmark's choice, not the shell's.
    for name in [name for name in os.environ if name.startswith("OTEL_")]:
        del os.environ[name]

    began = time.monotonic()
    described = machine()
    say(described)
    rows: list[Row] = []
    tracing_rows: list[Row] = []
    absolute: list[tuple[str, Result]] = []
    iso: isolation.Isolation | None = None
    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(harness.postgres_server())
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="flotilla-bench-")))
        run = start_services(stack, pg, log_dir, args.log_level)
        services, items_db = run.services, run.database_urls["items"]
        rss_started = footprint.rss(list(services.values()))
        versions = f"{postgres_version(items_db)}, {wrk_version()}"
        users = services["users"]
        emails = login_stall.register_users(users, login_stall.LOGIN_CONNECTIONS)
        postgres: list[CpuClock] = [pg] if pg.cpu_measurable else []

        if "speed" not in args.skip:
            items, gateway, textbook = services["items"], services["gateway"], services["textbook"]
            sides = [
                speed.Side("items", items.url, [items, *postgres]),
                speed.Side("gateway", gateway.url, [items, gateway, *postgres]),
                speed.Side("textbook", textbook.url, [textbook, *postgres]),
            ]
            token = login_stall.access_token(users, emails[0])
            endpoints = speed.item_endpoints(token, lambda: harness.delete_items_after(items_db))
            results = speed.measure(
                endpoints,
                sides,
                rounds=args.rounds,
                seconds=args.seconds,
                single_seconds=args.single_seconds,
            )
            rows += speed_rows(results)
            for endpoint, m in results.items():
                for side, runs in m.saturated.items():
                    absolute.append((f"{endpoint}: {side}", median(runs)))
                for side, runs in m.single.items():
                    absolute.append((f"{endpoint}: {side}, 1 connection", median(runs)))
        if "login" not in args.skip:
            stall = login_stall.measure(
                users, emails, seconds=args.login_seconds, rounds=args.rounds
            )
            rows += login_rows(stall)
            absolute += [("users /healthz, idle", median(stall.idle))]
            absolute += [("users /healthz, during logins", median(stall.loaded))]
        if "sessions" not in args.skip:
            rows += session_rows(sessions.measure(users, emails, seconds=args.login_seconds))
        if "tracing" not in args.skip:
            receiver, *traced = tracing_cost.start_traced(
                stack, run.specs, run.database_urls, log_dir, args.log_level
            )
            off = (services["items"], services["gateway"])
            cost = tracing_cost.measure(
                off,
                (traced[0], traced[1]),
                receiver,
                postgres,
                rounds=args.rounds,
                seconds=args.seconds,
            )
            harness.stop(traced)
            tracing_rows = tracing_cost.rows(cost)
            for side, runs in cost.saturated.items():
                absolute.append((f"{tracing_cost.ENDPOINT}: {side}", median(runs)))
        rss_loaded = footprint.rss(list(services.values()))
        harness.stop(list(services.values()))  # the rest needs the CPU to itself
        if "isolation" not in args.skip:
            iso = isolation.measure(pg.url)
    suite = None if "test-suite" in args.skip else test_suite_time.measure()
    rows += isolation_rows(iso, suite)
    names = [name for name in services if name != "textbook"]
    rows += footprint_rows(rss_started, rss_loaded, names, footprint.image_sizes(names))
    rows += tracing_rows

    print()
    print(f"Flotilla benchmarks: {described}")
    print(
        f"{versions}; wrk -t1, {speed.CONNECTIONS} connections, {args.seconds:g} s per run, "
        f"{args.rounds} rounds; load average at the end {os.getloadavg()[0]:.2f}; "
        f"took {time.monotonic() - began:.0f} s"
    )
    print()
    print(report.table(rows))
    if absolute:
        print()
        clocks = ["items", "gateway", "textbook", "users", "postgres"]
        clocks += ["items-traced", "gateway-traced", tracing_cost.RECEIVER]
        print(report.absolute(absolute, clocks))
    print()
    print(NOTES)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
