"""Requests spread over every address an upstream name resolves to (Swarm's dnsrr, a
Kubernetes headless Service): a fake resolver, replicas on distinct loopback addresses."""

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any

import httpx
import pytest

from flotilla.testing.servers import free_port, serve_in_thread
from gateway.main import create_app

from ..conftest import contract_upstreams, gateway_settings
from ..fakes import FakeUpstream

FIRST, SECOND = "127.0.0.2", "127.0.0.3"
#: Where a ``BrokenReplica`` listens.
BROKEN = "127.0.0.4"


class FakeResolver:
    """Answers from a table the test edits, like DNS as replicas come and go."""

    def __init__(self) -> None:
        self.table: dict[str, list[str]] = {}

    async def __call__(self, host: str, port: int) -> list[str]:
        return list(self.table[host])


class BrokenReplica:
    """Ready by its ``/readyz``, yet it closes the connection on every other request
    without answering; after ``stop()`` it refuses connections, like an exited process."""

    def __init__(self, address: str, port: int) -> None:
        self.requests = 0
        self._socket = socket.create_server((address, port))
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            with connection:
                request = connection.recv(65536)
                if request.startswith(b"GET /readyz "):
                    connection.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                elif request:
                    self.requests += 1

    def stop(self) -> None:
        if self._socket.fileno() != -1:
            self._socket.shutdown(socket.SHUT_RDWR)
            self._socket.close()


class Replicas:
    def __init__(self, port: int) -> None:
        self.port = port
        self.fakes = {a: FakeUpstream("items", "/api/v1/items") for a in (FIRST, SECOND)}

    def counts(self) -> dict[str, int]:
        return {address: len(fake.completed) for address, fake in self.fakes.items()}


@pytest.fixture(scope="module")
def replicas() -> Iterator[Replicas]:
    replicas = Replicas(free_port())
    with ExitStack() as stack:
        for address, fake in replicas.fakes.items():
            stack.enter_context(serve_in_thread(fake.asgi_app(), host=address, port=replicas.port))
        yield replicas


@pytest.fixture
def resolver(replicas: Replicas) -> FakeResolver:
    for fake in replicas.fakes.values():
        fake.reset()
    resolver = FakeResolver()
    resolver.table = {"users.test": ["127.0.0.1"], "items.test": [FIRST, SECOND]}
    return resolver


@pytest.fixture
def start_balancing_gateway(
    resolver: FakeResolver, replicas: Replicas, users_upstream: tuple[FakeUpstream, str]
) -> Callable[..., AbstractContextManager[str]]:
    """A gateway in front of ``users.test`` and ``items.test``, names only the fake resolves."""
    users_port = users_upstream[1].rsplit(":", 1)[1]

    @contextmanager
    def start(**overrides: Any) -> Iterator[str]:
        settings = gateway_settings(
            upstreams=contract_upstreams(
                f"http://users.test:{users_port}", f"http://items.test:{replicas.port}"
            ),
            **overrides,
        )
        with serve_in_thread(create_app(settings, resolver=resolver)) as url:
            yield url

    return start


@pytest.fixture
def gateway(start_balancing_gateway: Callable[..., AbstractContextManager[str]]) -> Iterator[str]:
    """Refreshes only when the test asks (its /readyz), so each test sets the scene exactly."""
    with start_balancing_gateway(upstream_refresh_seconds=3600) as url:
        yield url


@pytest.fixture
def broken(replicas: Replicas) -> Iterator[BrokenReplica]:
    replica = BrokenReplica(BROKEN, replicas.port)
    yield replica
    replica.stop()


def refresh(gateway: str) -> None:
    """The gateway's /readyz resolves and probes every upstream before answering."""
    httpx.get(f"{gateway}/readyz")


def send(gateway: str, method: str, count: int, body: bytes | None = None) -> list[int]:
    with httpx.Client(base_url=gateway) as client:
        return [
            client.request(method, f"/api/v1/items/{n}", content=body).status_code
            for n in range(count)
        ]


def test_requests_are_spread_evenly_over_every_address(gateway: str, replicas: Replicas) -> None:
    statuses = send(gateway, "GET", 20)

    assert statuses == [200] * 20
    assert replicas.counts() == {FIRST: 10, SECOND: 10}


def test_the_upstream_is_addressed_by_its_name_whichever_address_serves(
    gateway: str, replicas: Replicas
) -> None:
    send(gateway, "GET", 2)

    for fake in replicas.fakes.values():
        assert fake.last.header("host") == f"items.test:{replicas.port}"


def test_a_new_address_is_used_after_the_periodic_refresh(
    start_balancing_gateway: Callable[..., AbstractContextManager[str]],
    replicas: Replicas,
    resolver: FakeResolver,
) -> None:
    resolver.table["items.test"] = [FIRST]
    with start_balancing_gateway(upstream_refresh_seconds=0.1) as gateway:
        send(gateway, "GET", 4)
        resolver.table["items.test"] = [FIRST, SECOND]
        with httpx.Client(base_url=gateway) as client:
            for _ in range(200):  # until the next refresh, some 0.1 s away
                client.get("/api/v1/items/1")
                if replicas.counts()[SECOND]:
                    break

    assert replicas.counts()[SECOND] > 0


def test_an_address_gone_from_dns_gets_no_more_requests(
    gateway: str, replicas: Replicas, resolver: FakeResolver
) -> None:
    resolver.table["items.test"] = [SECOND]
    refresh(gateway)

    statuses = send(gateway, "GET", 6)

    assert statuses == [200] * 6
    assert replicas.counts() == {FIRST: 0, SECOND: 6}


def test_a_draining_address_gets_no_requests(gateway: str, replicas: Replicas) -> None:
    replicas.fakes[FIRST].ready = False  # draining: /readyz 503 while it still serves
    refresh(gateway)

    statuses = send(gateway, "GET", 6)

    assert statuses == [200] * 6
    assert replicas.counts() == {FIRST: 0, SECOND: 6}


def test_a_refusing_address_costs_no_failed_request_and_is_skipped_from_then_on(
    gateway: str, replicas: Replicas, resolver: FakeResolver, broken: BrokenReplica
) -> None:
    resolver.table["items.test"] = [FIRST, BROKEN]
    refresh(gateway)
    broken.stop()

    statuses = send(gateway, "GET", 6)

    assert statuses == [200] * 6
    assert replicas.counts() == {FIRST: 6, SECOND: 0}


def test_a_post_to_a_refusing_address_goes_to_another(
    gateway: str, replicas: Replicas, resolver: FakeResolver, broken: BrokenReplica
) -> None:
    resolver.table["items.test"] = [BROKEN, FIRST]
    refresh(gateway)
    broken.stop()

    statuses = send(gateway, "POST", 2, body=b"{}")

    assert statuses == [200, 200]
    assert replicas.counts()[FIRST] == 2


def test_a_get_cut_off_before_its_response_is_retried_once_on_another_address(
    gateway: str, replicas: Replicas, resolver: FakeResolver, broken: BrokenReplica
) -> None:
    resolver.table["items.test"] = [BROKEN, FIRST]
    refresh(gateway)

    statuses = send(gateway, "GET", 4)

    assert statuses == [200] * 4
    assert broken.requests > 0  # every other request went there first
    assert replicas.counts()[FIRST] == 4


def test_a_put_cut_off_before_its_response_is_retried_with_its_whole_body(
    gateway: str, replicas: Replicas, resolver: FakeResolver, broken: BrokenReplica
) -> None:
    resolver.table["items.test"] = [BROKEN, FIRST]
    refresh(gateway)
    body = b"x" * 100_000

    statuses = send(gateway, "PUT", 2, body=body)

    assert statuses == [200, 200]
    assert [received.body for received in replicas.fakes[FIRST].completed] == [body, body]


def test_a_post_cut_off_before_its_response_is_not_sent_again(
    gateway: str, replicas: Replicas, resolver: FakeResolver, broken: BrokenReplica
) -> None:
    resolver.table["items.test"] = [BROKEN, FIRST]
    refresh(gateway)

    statuses = send(gateway, "POST", 2, body=b"{}")

    assert statuses == [502, 200]  # it may have reached the upstream: the client decides
    assert broken.requests == 1
    assert replicas.counts()[FIRST] == 1


def test_the_gateway_is_ready_while_one_address_of_each_upstream_is_ready(
    gateway: str, replicas: Replicas
) -> None:
    replicas.fakes[FIRST].ready = False

    response = httpx.get(f"{gateway}/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"users": "ok", "items": "ok"}}


def test_the_gateway_is_unready_once_no_address_of_an_upstream_is_ready(
    gateway: str, replicas: Replicas
) -> None:
    for fake in replicas.fakes.values():
        fake.ready = False

    response = httpx.get(f"{gateway}/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"users": "ok", "items": "unavailable"}


def test_a_name_that_resolves_to_nothing_is_502(gateway: str, resolver: FakeResolver) -> None:
    resolver.table["items.test"] = []
    refresh(gateway)

    assert send(gateway, "GET", 1) == [502]
