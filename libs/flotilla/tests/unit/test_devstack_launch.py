"""The launcher starts every registered service, so a new one runs wherever the stack runs.

The dev stack, the benchmarks and (through the dev stack) chaos and soak start
their services with :mod:`flotilla.devstack.launch`. These tests record the
processes it would start instead of starting them.
"""

import dataclasses
import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from flotilla.devstack import launch
from flotilla.devstack.registry import discover
from flotilla.devstack.services import stack


class RecordedPopen:
    """Stands in for ``subprocess.Popen``: keeps the command and environment."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str], pid: int) -> None:
        self.args = list(args)
        self.env = dict(env)
        self.pid = pid

    def poll(self) -> int | None:
        return None

    @property
    def service(self) -> str:
        """The service ``python -m flotilla.server <service>`` serves."""
        return self.args[self.args.index("flotilla.server") + 1]


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[RecordedPopen]:
    """What the launcher starts in this test, in order; nothing really starts."""
    started: list[RecordedPopen] = []

    def popen(args: Sequence[str], *, env: Mapping[str, str], **_: object) -> RecordedPopen:
        started.append(RecordedPopen(args, env, pid=4242 + len(started)))
        return started[-1]

    monkeypatch.setattr(subprocess, "Popen", popen)
    return started


def register(root: Path, name: str, port: int, *, database: bool, routes: list[str]) -> None:
    directory = root / "services" / name
    directory.mkdir(parents=True)
    table = f"[tool.flotilla]\nport = {port}\ndatabase = {str(database).lower()}\n"
    (directory / "pyproject.toml").write_text(f"{table}routes = {json.dumps(routes)}\n")


@pytest.fixture
def checkout_with_orders(tmp_path: Path) -> Path:
    """A checkout with a service added to users, items and the gateway: ``orders``."""
    root = tmp_path / "checkout"
    register(root, "users", 8001, database=True, routes=["/api/v1/auth", "/api/v1/users"])
    register(root, "items", 8002, database=True, routes=["/api/v1/items"])
    register(root, "orders", 8010, database=True, routes=["/api/v1/orders"])
    register(root, "gateway", 8000, database=False, routes=[])
    return root


def test_every_service_of_this_checkout_is_started(
    recorded: list[RecordedPopen], tmp_path: Path
) -> None:
    processes = launch.spawn_all(stack(tmp_path), {})

    registered = [service.name for service in discover()]
    assert [process.name for process in processes] == registered
    assert [popen.service for popen in recorded] == registered


def test_a_new_service_is_started_with_its_database_and_behind_the_gateway(
    recorded: list[RecordedPopen], checkout_with_orders: Path, tmp_path: Path
) -> None:
    services = discover(checkout_with_orders)
    urls = {s.name: f"postgresql+psycopg:///{s.package}" for s in services if s.has_database}

    launch.spawn_all(stack(tmp_path, services), urls)

    assert [popen.service for popen in recorded] == ["items", "orders", "users", "gateway"]
    orders, gateway = recorded[1].env, recorded[3].env
    assert orders["ORDERS_DATABASE_URL"] == "postgresql+psycopg:///orders"
    assert orders["ORDERS_JWKS_URL"] == "http://127.0.0.1:8001/api/v1/auth/jwks"
    assert json.loads(gateway["GATEWAY_UPSTREAMS__ORDERS"]) == {
        "url": "http://127.0.0.1:8010",
        "routes": ["/api/v1/orders"],
    }


def test_other_ports_are_where_the_gateway_and_the_issuers_clients_look(
    recorded: list[RecordedPopen], checkout_with_orders: Path, tmp_path: Path
) -> None:
    ports = {"users": 9001, "items": 9002, "orders": 9010, "gateway": 9000}

    processes = launch.spawn_all(stack(tmp_path, discover(checkout_with_orders), ports=ports), {})

    assert {p.name: p.url for p in processes} == {
        name: f"http://127.0.0.1:{port}" for name, port in ports.items()
    }
    assert [popen.args[-1] for popen in recorded] == ["9002", "9010", "9001", "9000"]
    gateway = recorded[3].env
    assert json.loads(gateway["GATEWAY_UPSTREAMS__USERS"])["url"] == "http://127.0.0.1:9001"
    assert recorded[0].env["ITEMS_JWKS_URL"] == "http://127.0.0.1:9001/api/v1/auth/jwks"


def test_a_second_instance_has_its_own_name_port_and_environment(
    recorded: list[RecordedPopen], checkout_with_orders: Path, tmp_path: Path
) -> None:
    items = stack(tmp_path, discover(checkout_with_orders))[0]
    run_dir = tmp_path / "run"
    run_dir.mkdir()

    process = launch.spawn(
        dataclasses.replace(items, listen_port=9102),
        "postgresql+psycopg:///items",
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
        suffix="-traced",
        log_dir=tmp_path,
        run_dir=run_dir,
    )

    assert (process.name, process.url) == ("items-traced", "http://127.0.0.1:9102")
    assert process.log == tmp_path / "items-traced.log"
    assert (run_dir / "items-traced.pid").read_text() == str(recorded[0].pid)
    assert recorded[0].service == "items"
    assert recorded[0].env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    assert recorded[0].env["OTEL_SERVICE_NAME"] == "items"


def test_a_process_that_exits_during_start_up_is_reported_with_its_log(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "print('no signing key'); raise SystemExit(3)"]
    process = launch.start("broken", command, "http://127.0.0.1:9", log=tmp_path / "broken.log")

    with pytest.raises(
        launch.LaunchError, match=r"broken exited during start-up(.|\n)*no signing key"
    ):
        launch.wait_until_ready([process], timeout=30)


def test_stop_all_stops_and_forgets_a_process_and_can_be_called_again(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import time; time.sleep(60)"]
    process = launch.start("sleeper", command, "http://127.0.0.1:9", run_dir=tmp_path)
    assert (tmp_path / "sleeper.pid").read_text() == str(process.popen.pid)

    launch.stop_all([process], run_dir=tmp_path)
    launch.stop_all([process], run_dir=tmp_path)

    assert process.popen.returncode is not None
    assert not (tmp_path / "sleeper.pid").exists()
