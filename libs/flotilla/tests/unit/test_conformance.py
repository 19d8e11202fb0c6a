"""Requests the HTTP rules say to refuse are refused before any route runs."""

import pytest

from flotilla.conformance import (
    BAD_HOST,
    UNSUPPORTED_TRANSFER_CODING,
    is_valid_host,
    refusal,
)
from flotilla.server import HEADERS_TOO_LARGE, HeaderLimits

LIMITS = HeaderLimits(max_bytes=1024, max_fields=10)


def scope_with(*headers: tuple[bytes, bytes], http_version: str = "1.1") -> dict[str, object]:
    return {"type": "http", "http_version": http_version, "headers": list(headers)}


HOST = (b"host", b"api.example.com")


@pytest.mark.parametrize(
    "host",
    [
        b"api.example.com",
        b"api.example.com:8000",
        b"127.0.0.1",
        b"127.0.0.1:65535",
        b"[::1]",
        b"[2001:db8::1]:443",
        b"xn--bcher-kva.example",
        b"under_score.example",
        b"%41.example",
        b"",
        b"localhost:",
    ],
)
def test_a_host_of_the_uri_grammar_is_valid(host: bytes) -> None:
    assert is_valid_host(host)


@pytest.mark.parametrize(
    "host",
    [
        b"api.example.com:65536",
        b"api.example.com:8o",
        b"api.example.com:123456",
        b"a b.example",
        b"api.example.com/path",
        b"user@api.example.com",
        b"[::1",
        b"::1",
        b"%zz.example",
        b"api.example.com:80:80",
        b"\xc3\xa9.example",
        b"a" * 254,
        b"api.example.com\x00",
    ],
)
def test_a_host_outside_the_uri_grammar_is_invalid(host: bytes) -> None:
    assert not is_valid_host(host)


def test_a_request_with_one_valid_host_proceeds() -> None:
    assert refusal(scope_with(HOST, (b"accept", b"*/*")), LIMITS) is None


def test_an_http_1_1_request_without_host_is_400() -> None:
    assert refusal(scope_with((b"accept", b"*/*")), LIMITS) == (400, BAD_HOST)


def test_an_http_1_0_request_without_host_proceeds() -> None:
    assert refusal(scope_with(http_version="1.0"), LIMITS) is None


@pytest.mark.parametrize("http_version", ["1.0", "1.1"])
def test_two_host_headers_are_400_even_when_equal(http_version: str) -> None:
    scope = scope_with(HOST, HOST, http_version=http_version)

    assert refusal(scope, LIMITS) == (400, BAD_HOST)


def test_an_invalid_host_is_400() -> None:
    assert refusal(scope_with((b"host", b"evil.example/x")), LIMITS) == (400, BAD_HOST)


@pytest.mark.parametrize(
    "codings",
    [[b"gzip, chunked"], [b"gzip", b"chunked"], [b"deflate"], [b"identity"], [b"chunked, br"]],
)
def test_a_transfer_coding_other_than_chunked_is_501(codings: list[bytes]) -> None:
    scope = scope_with(HOST, *((b"transfer-encoding", coding) for coding in codings))

    assert refusal(scope, LIMITS) == (501, UNSUPPORTED_TRANSFER_CODING)


def test_chunked_alone_proceeds() -> None:
    assert refusal(scope_with(HOST, (b"transfer-encoding", b"Chunked")), LIMITS) is None


def padded_to(total: int) -> tuple[bytes, bytes]:
    """A field that brings the header bytes (names and values) to ``total`` with HOST."""
    name = b"x-pad"
    return name, b"p" * (total - len(HOST[0]) - len(HOST[1]) - len(name))


def test_headers_of_exactly_the_byte_limit_proceed() -> None:
    assert refusal(scope_with(HOST, padded_to(LIMITS.max_bytes)), LIMITS) is None


def test_headers_one_byte_over_the_limit_are_431() -> None:
    scope = scope_with(HOST, padded_to(LIMITS.max_bytes + 1))

    assert refusal(scope, LIMITS) == (431, HEADERS_TOO_LARGE)


def test_exactly_the_field_limit_proceeds_and_one_more_is_431() -> None:
    fields = [(b"x-%d" % n, b"1") for n in range(LIMITS.max_fields - 1)]

    assert refusal(scope_with(HOST, *fields), LIMITS) is None
    assert refusal(scope_with(HOST, *fields, (b"x-last", b"1")), LIMITS) == (
        431,
        HEADERS_TOO_LARGE,
    )


def test_too_large_headers_are_refused_before_their_host_is_judged() -> None:
    scope = scope_with(padded_to(LIMITS.max_bytes + 100))

    assert refusal(scope, LIMITS) == (431, HEADERS_TOO_LARGE)
