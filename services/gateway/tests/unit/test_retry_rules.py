"""When a failed attempt may go to another address: never sent, or idempotent."""

import aiohttp
import pytest

from gateway.balancer import system_resolver
from gateway.proxy import may_send_again


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH"])
def test_a_connect_that_timed_out_sent_nothing_so_any_method_goes_again(method: str) -> None:
    assert may_send_again(method, aiohttp.ConnectionTimeoutError("connect"), None)


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])
def test_an_idempotent_request_goes_again_after_the_connection_broke(method: str) -> None:
    assert may_send_again(method, aiohttp.ServerDisconnectedError(), None)


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_request_that_may_have_arrived_does_not_go_again(method: str) -> None:
    assert not may_send_again(method, aiohttp.ServerDisconnectedError(), None)


def test_a_read_timeout_is_not_retried() -> None:
    assert not may_send_again("GET", aiohttp.SocketTimeoutError("read"), None)


async def test_the_system_resolver_lists_every_address_once() -> None:
    addresses = await system_resolver("localhost", 8000)

    assert "127.0.0.1" in addresses
    assert len(addresses) == len(set(addresses))
