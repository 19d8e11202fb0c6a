"""``nox -s swarm -- up | e2e | down``: the stack on a single-node Docker Swarm.

up    build the images, join (or create) a swarm, deploy the stack ``flotilla`` from the
      compose file (deploy/swarm/stack.py), wait for the migrations and every replica
down  remove the stack, its volumes, and the swarm if ``up`` created it
e2e   tests_e2e against the stack, then the rolling-update load test (deploy/swarm/rolling.py)

Environment: GATEWAY_PORT (8000), FLOTILLA_IMAGE_TAG (set by nox), PYTHON_IMAGE and
POSTGRES_IMAGE (the base images; the official ones by default), DOCKER_BUILD_NETWORK,
FIRST_ADMIN_EMAIL and FIRST_ADMIN_PASSWORD (the admin seeded, and the one tests_e2e uses).
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from deploy.swarm import rolling
from deploy.swarm.stack import stack_from_compose
from flotilla.devstack.registry import discover

ROOT = Path(__file__).parents[2]
STATE_DIR = ROOT / "build" / "swarm"
STACK_FILE = STATE_DIR / "stack.json"
#: Present while the swarm is one ``up`` created, so ``down`` leaves it again.
CREATED_SWARM = STATE_DIR / "created-swarm"
STACK = "flotilla"
#: Two replicas of every service behind the gateway: enough to show spreading and rolling.
REPLICAS = {service.name: 2 for service in discover() if not service.is_gateway}
UP_TIMEOUT_SECONDS = 300
DEFAULT_ADMIN = {
    "FIRST_ADMIN_EMAIL": "swarm-admin@example.com",
    "FIRST_ADMIN_PASSWORD": "swarm-admin-password",
}


def environment() -> dict[str, str]:
    """This process's environment, with the seeded admin's defaults."""
    return {**DEFAULT_ADMIN, **{k: v for k, v in os.environ.items() if v}}


def say(message: str) -> None:
    print(f"[swarm] {message}", flush=True)


def docker(*args: str, capture: bool = False) -> str:
    result = subprocess.run(  # noqa: S603 (docker from PATH, fixed arguments)
        ["docker", *args],  # noqa: S607
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
        env=environment(),
    )
    return result.stdout or ""


def gateway_port() -> int:
    return int(os.environ.get("GATEWAY_PORT", "8000"))


def gateway_url() -> str:
    return f"http://127.0.0.1:{gateway_port()}"


def join_swarm() -> None:
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}", capture=True).strip()
    if state == "active":
        return
    say("this engine is in no swarm: docker swarm init --advertise-addr 127.0.0.1")
    docker("swarm", "init", "--advertise-addr", "127.0.0.1")
    CREATED_SWARM.touch()


def write_stack_file() -> None:
    config = json.loads(
        docker(
            "compose",
            "--file",
            str(ROOT / "docker-compose.yml"),
            "config",
            "--format",
            "json",
            capture=True,
        )
    )
    STACK_FILE.write_text(json.dumps(stack_from_compose(config, replicas=REPLICAS), indent=2))


def service_states() -> dict[str, str]:
    """Service name -> ``docker service ls``'s replicas (``2/2``, ``0/1 (1/1 completed)``)."""
    listing = docker(
        "service",
        "ls",
        "--filter",
        f"label=com.docker.stack.namespace={STACK}",
        "--format",
        "{{.Name}} {{.Replicas}}",
        capture=True,
    )
    return dict(line.split(" ", 1) for line in listing.splitlines())


def converged(replicas: str) -> bool:
    if "completed" in replicas:  # a job: every run completed
        done = replicas.split("(")[1].split(" ")[0]
        finished, wanted = done.split("/")
        return finished == wanted
    running, wanted = replicas.split("/")
    return running == wanted and wanted != "0"


def update_states() -> set[str]:
    """The services' rolling-update states (``updating``, ``completed``, ...), if any."""
    names = list(service_states())
    if not names:
        return set()
    listing = docker(
        "service",
        "inspect",
        "--format",
        "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}",
        *names,
        capture=True,
    )
    return {state for state in listing.split() if state}


def wait_until_ready() -> None:
    """No update in progress, every job completed and every replica running (Swarm counts a
    task with a health check as running only once it is healthy), then the gateway ready."""
    deadline = time.monotonic() + UP_TIMEOUT_SECONDS
    time.sleep(3)  # the deploy's updates begin
    while True:
        states = service_states()
        updates = update_states()
        if updates & {"rollback_started", "rollback_completed", "paused", "rollback_paused"}:
            raise SystemExit(f"an update failed and was rolled back: {sorted(updates)}")
        if (
            states
            and all(converged(replicas) for replicas in states.values())
            and not updates & {"updating"}
        ):
            break
        if time.monotonic() > deadline:
            docker("service", "ls", "--filter", f"label=com.docker.stack.namespace={STACK}")
            raise SystemExit("the stack did not converge in time")
        time.sleep(2)

    while True:
        try:
            if httpx.get(f"{gateway_url()}/readyz", timeout=3).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the gateway did not become ready in time")
        time.sleep(1)


def up() -> None:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    say("building the images (nox -s build)")
    subprocess.run(["nox", "-s", "build"], check=True, cwd=ROOT)  # noqa: S607
    join_swarm()
    write_stack_file()
    say(f"docker stack deploy {STACK} (stack file: {STACK_FILE.relative_to(ROOT)})")
    docker(
        "stack",
        "deploy",
        "--resolve-image",
        "never",
        "--prune",
        "--compose-file",
        str(STACK_FILE),
        STACK,
    )
    wait_until_ready()
    docker("service", "ls", "--filter", f"label=com.docker.stack.namespace={STACK}")
    say(f"ready: {gateway_url()} (published in host mode, on every address of this machine)")


def down() -> None:
    label = f"label=com.docker.stack.namespace={STACK}"
    if service_states_or_none() is not None:
        docker("stack", "rm", STACK)
    deadline = time.monotonic() + 120
    while docker("ps", "--quiet", "--filter", label, capture=True).strip() or (
        docker("network", "ls", "--quiet", "--filter", label, capture=True).strip()
    ):
        if time.monotonic() > deadline:
            raise SystemExit("the stack's containers or networks did not go away")
        time.sleep(1)
    # Swarm leaves the containers of finished job tasks (the migrations) behind.
    exited = docker("ps", "--all", "--quiet", "--filter", label, capture=True).split()
    if exited:
        docker("rm", "--force", *exited, capture=True)
    volumes = docker("volume", "ls", "--quiet", "--filter", label, capture=True).split()
    if volumes:
        docker("volume", "rm", *volumes)
    if CREATED_SWARM.exists():
        say("leaving the swarm up created")
        docker("swarm", "leave", "--force")
        CREATED_SWARM.unlink()
    say("nothing of the stack is left")


def service_states_or_none() -> dict[str, str] | None:
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}", capture=True).strip()
    return service_states() if state == "active" else None


def e2e() -> None:

    env = {
        **environment(),
        "GATEWAY_URL": gateway_url(),
        "E2E_STOP_ITEMS": f"docker service scale --detach {STACK}_items=0",
    }
    say(f"tests_e2e against {gateway_url()}")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests_e2e",
            "--junitxml=build/reports/junit-e2e-swarm.xml",
        ],
        check=True,
        cwd=ROOT,
        env=env,
    )
    say("items back to its replicas after the outage test")
    docker("service", "scale", f"{STACK}_items={REPLICAS['items']}")
    wait_until_ready()
    rolling.main(gateway_url(), STACK)


COMMANDS = {"up": up, "down": down, "e2e": e2e}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        raise SystemExit("usage: nox -s swarm -- up|e2e|down")
    COMMANDS[sys.argv[1]]()
