"""Rolling updates under load: what a client of the gateway sees while Swarm replaces tasks.

A steady open-loop mix (reads, creates, logins) goes through the gateway while,
one phase after another, ``docker service update --force`` replaces every task
of items, then users, then the gateway, and one items task's container is
killed outright. Every request is counted by phase and outcome: the status it
got, or the error. "Failed" is any answer but the expected success status, a
connection error or a timeout. Every acknowledged create is read back at the end.

Before the load: requests spread over the items replicas (each task's own
``/metrics``), and the login lockout holds across users replicas.
"""

import asyncio
import itertools
import random
import re
import subprocess
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import httpx

RATE_PER_SECOND = 60
MAX_IN_FLIGHT = 64
#: Reads, creates, logins: logins are few (about one a second), each costs a password hash.
MIX = [("read", 79), ("create", 20), ("login", 1)]
#: A request without an answer in this time counts as failed (logins hash a password on a
#: shared 2-core machine: seconds, not milliseconds, when it is busy).
TIMEOUT_SECONDS = 30
#: Logins rotate over this many users: one user's logins would contend for one row.
LOGIN_USERS = 10
EXPECTED = {"read": 200, "create": 201, "login": 200}
PASSWORD = "rolling-update-password"  # noqa: S105 (a throwaway test user's)
#: The phases whose target is zero failed requests.
ZERO_FAILURE_PHASES = ("update items", "update users")


def say(message: str) -> None:
    print(f"[rolling] {message}", flush=True)


def docker(*args: str) -> str:
    return subprocess.run(  # noqa: S603
        ["docker", *args],  # noqa: S607
        check=True,
        text=True,
        capture_output=True,
    ).stdout


def containers(service: str) -> list[str]:
    return docker(
        "ps",
        "--quiet",
        "--filter",
        f"label=com.docker.swarm.service.name={service}",
        "--filter",
        "status=running",
    ).split()


def task_ids(service: str) -> set[str]:
    return set(
        docker("service", "ps", "--quiet", "--filter", "desired-state=running", service).split()
    )


def requests_seen(container: str, route_pattern: str) -> float:
    """The task's own count of requests to routes matching ``route_pattern``, from /metrics."""
    script = (
        "import urllib.request; print(urllib.request.urlopen("
        "'http://127.0.0.1:8000/metrics', timeout=5).read().decode())"
    )
    metrics = docker("exec", container, "python", "-c", script)
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith("http_requests_total{") and re.search(route_pattern, line):
            total += float(line.rsplit(" ", 1)[1])
    return total


@dataclass
class Recorder:
    phase: str = "baseline"
    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    failed: Counter[str] = field(default_factory=Counter)
    started: dict[str, float] = field(default_factory=dict)
    ended: dict[str, float] = field(default_factory=dict)
    created: list[int] = field(default_factory=list)

    def enter(self, phase: str) -> None:
        now = time.monotonic()
        self.ended[self.phase] = now
        self.phase = phase
        self.started[phase] = now

    def record(self, phase: str, kind: str, outcome: str, ok: bool) -> None:
        self.outcomes[phase][f"{kind} {outcome}"] += 1
        if not ok:
            self.failed[phase] += 1


async def one_request(
    client: httpx.AsyncClient,
    kind: str,
    token: str,
    email: str,
    read_id: int,
    rec: Recorder,
    phase: str,
) -> None:
    """Counted in ``phase``, the one it was sent in; a login signs ``email`` in."""
    try:
        if kind == "read":
            response = await client.get(f"/api/v1/items/{read_id}")
        elif kind == "create":
            response = await client.post(
                "/api/v1/items/",
                json={"name": f"rolling-{uuid.uuid4().hex[:8]}", "price": 150},
                headers={"Authorization": f"Bearer {token}"},
            )
        else:
            response = await client.post(
                "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
            )
    except httpx.HTTPError as error:
        rec.record(phase, kind, type(error).__name__, ok=False)
        return
    ok = response.status_code == EXPECTED[kind]
    if ok and kind == "create":
        rec.created.append(response.json()["id"])
    rec.record(phase, kind, str(response.status_code), ok=ok)


async def generate_load(
    client: httpx.AsyncClient,
    token: str,
    emails: list[str],
    read_id: int,
    rec: Recorder,
    stop: asyncio.Event,
) -> None:
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
    pending: set[asyncio.Task[None]] = set()
    interval = 1 / RATE_PER_SECOND
    next_at = time.monotonic()
    rng = random.Random(18)  # noqa: S311 (a load mix, not cryptography)

    async def run(kind: str, email: str, phase: str) -> None:
        async with in_flight:
            await one_request(client, kind, token, email, read_id, rec, phase)

    for sent in itertools.count():
        if stop.is_set():
            break
        email = emails[sent % len(emails)]
        task = asyncio.create_task(run(rng.choice(kinds), email, rec.phase))
        pending.add(task)
        task.add_done_callback(pending.discard)
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    await asyncio.gather(*pending)


async def in_thread(*args: str) -> str:
    return await asyncio.to_thread(docker, *args)


async def wait_converged(service: str, replicas: int) -> None:
    """Until Swarm has replaced the killed task: ``replicas`` tasks running (healthy) again."""
    for _ in range(240):
        listed = await in_thread(
            "service", "ls", "--filter", f"name={service}", "--format", "{{.Replicas}}"
        )
        if (
            listed.strip().startswith(f"{replicas}/{replicas}")
            and len(containers(service)) >= replicas
        ):
            return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{service} did not get back to {replicas} tasks")


async def orchestrate(stack: str, rec: Recorder, stop: asyncio.Event) -> dict[str, bool]:
    changed = {}
    await asyncio.sleep(5)
    for name in ("items", "users", "gateway"):
        service = f"{stack}_{name}"
        before = task_ids(service)
        rec.enter(f"update {name}")
        try:
            await in_thread("service", "update", "--force", "--quiet", "--detach=false", service)
        except subprocess.CalledProcessError as error:
            say(f"{service}: the update did not converge: {error.stderr.strip()}")
        await asyncio.sleep(2)
        after = task_ids(service)
        changed[name] = bool(after) and not (before & after)
        say(f"{service}: tasks {sorted(before)} -> {sorted(after)}")
    rec.enter("kill an items task")
    victim = containers(f"{stack}_items")[0]
    await in_thread("kill", victim)
    await asyncio.sleep(1)
    await wait_converged(f"{stack}_items", 2)
    rec.enter("after")
    await asyncio.sleep(3)
    rec.enter("done")
    stop.set()
    return changed


async def sign_up(client: httpx.AsyncClient) -> tuple[str, str]:
    email = f"rolling-{uuid.uuid4().hex[:12]}@example.com"
    registered = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
    )
    registered.raise_for_status()
    token = await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    token.raise_for_status()
    return email, str(token.json()["access_token"])


async def fair_share(client: httpx.AsyncClient, stack: str) -> dict[str, float]:
    tasks = containers(f"{stack}_items")
    route = r'route="/api/v1/items'
    before = {c: requests_seen(c, route) for c in tasks}
    for _ in range(200):
        (await client.get("/api/v1/items/")).raise_for_status()
    gained = {c: requests_seen(c, route) - before[c] for c in tasks}
    total = sum(gained.values())
    return {c[:12]: n / total for c, n in gained.items()}


async def lockout_across_replicas(
    client: httpx.AsyncClient, stack: str
) -> tuple[list[int], int, dict[str, float]]:
    email, _ = await sign_up(client)
    tasks = containers(f"{stack}_users")
    route = r'route="/api/v1/auth/token'
    before = {c: requests_seen(c, route) for c in tasks}
    failures = [
        (
            await client.post(
                "/api/v1/auth/token", data={"username": email, "password": "wrong-password"}
            )
        ).status_code
        for _ in range(5)
    ]
    locked = await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    spread = {c[:12]: requests_seen(c, route) - before[c] for c in tasks}
    return failures, locked.status_code, spread


async def run(url: str, stack: str) -> bool:
    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT_SECONDS) as client:
        share = await fair_share(client, stack)
        say(f"items requests per task (200 list reads): {share}")
        failures, locked, spread = await lockout_across_replicas(client, stack)
        say(
            f"lockout: 5 wrong passwords -> {failures}, then the right one -> {locked}; "
            f"token requests per users task: {spread}"
        )
        email, token = await sign_up(client)
        emails = [email, *[(await sign_up(client))[0] for _ in range(LOGIN_USERS - 1)]]
        seed = await client.post(
            "/api/v1/items/",
            json={"name": "rolling-seed", "price": 1},
            headers={"Authorization": f"Bearer {token}"},
        )
        seed.raise_for_status()
        rec = Recorder()
        rec.enter("baseline")
        stop = asyncio.Event()
        load = asyncio.create_task(
            generate_load(client, token, emails, seed.json()["id"], rec, stop)
        )
        changed = await orchestrate(stack, rec, stop)
        await load
        missing = [
            i for i in rec.created if (await client.get(f"/api/v1/items/{i}")).status_code != 200
        ]
    report(rec, missing, changed)
    shares_fair = all(0.4 <= s <= 0.6 for s in share.values()) and len(share) == 2
    return (
        shares_fair
        and failures == [401] * 5
        and locked == 429
        and len([n for n in spread.values() if n > 0]) > 1
        and all(rec.failed[p] == 0 for p in ZERO_FAILURE_PHASES)
        and not missing
        and all(changed.values())
        and all(rate >= 50 for rate in rates(rec).values())
    )


def rates(rec: Recorder) -> dict[str, float]:
    return {
        phase: sum(counts.values()) / (rec.ended[phase] - rec.started[phase])
        for phase, counts in rec.outcomes.items()
    }


def report(rec: Recorder, missing: list[int], changed: dict[str, bool]) -> None:
    print("\n==== rolling updates under load (through the gateway) ====")
    for phase, counts in rec.outcomes.items():
        seconds = rec.ended[phase] - rec.started[phase]
        total = sum(counts.values())
        print(
            f"{phase:22} {seconds:5.1f} s  {total:5d} requests  {total / seconds:5.1f}/s  "
            f"failed {rec.failed[phase]:3d}  "
            + ", ".join(f"{key}: {n}" for key, n in sorted(counts.items()))
        )
    print(f"acknowledged creates: {len(rec.created)}, read back: {len(rec.created) - len(missing)}")
    print(f"task ids changed: {changed}")


def main(url: str, stack: str) -> None:
    if not asyncio.run(run(url, stack)):
        raise SystemExit("the rolling-update test failed (see above)")
