"""HTTP/1.1 over a plain socket, for tests that send what a client library would fix.

httpx and friends add a ``Host``, merge or refuse odd headers and never send a
malformed request line; these helpers send the bytes exactly as written.
"""

import select
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class RawResponse:
    status: int
    #: Header names in lower case, values as sent, in order.
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key == name.lower()]
        return values[0] if values else None


def address_of(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def read_response(connection: socket.socket, *, head_request: bool = False) -> RawResponse:
    """One response: its head, then ``Content-Length`` bytes (or up to the close)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before a response head: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = [
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(":") for line in lines)
    ]
    length = next((int(v) for k, v in headers if k == "content-length"), None)
    expected = 0 if head_request else length
    while expected is None or len(body) < expected:
        try:
            chunk = connection.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        body += chunk
    return RawResponse(int(status_line.split(" ")[1]), headers, body)


def exchange(base_url: str, request: bytes, *, head_request: bool = False) -> RawResponse:
    """Send ``request`` as is on a new connection and read one response."""
    with socket.create_connection(address_of(base_url), timeout=TIMEOUT_SECONDS) as connection:
        connection.sendall(request)
        return read_response(connection, head_request=head_request)


def request_bytes(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes = b"",
    *,
    version: str = "HTTP/1.1",
) -> bytes:
    """A request with exactly these header lines (no Host unless given)."""
    lines = [f"{method} {target} {version}", *(f"{name}: {value}" for name, value in headers)]
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body


def header_total(headers: list[tuple[str, str]]) -> int:
    """What the header limits count: the bytes of every name and value."""
    return sum(len(name) + len(value) for name, value in headers)


def stream_header(base_url: str, total_bytes: int, *, path: str = "/healthz") -> RawResponse:
    """Send one header value of ``total_bytes``, 64 KiB at a time, until the server answers.

    A well-behaved client stops sending once a response is waiting; so does this.
    """
    chunk = b"a" * 65536
    with socket.create_connection(address_of(base_url), timeout=TIMEOUT_SECONDS) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\nX-Huge: ".encode())
        sent = 0
        try:
            while sent < total_bytes and not _readable(connection):
                connection.sendall(chunk)
                sent += len(chunk)
            if sent >= total_bytes:
                connection.sendall(b"\r\n\r\n")
        except OSError:
            pass  # the server closed its side; its answer is already here
        return read_response(connection)


def _readable(connection: socket.socket) -> bool:
    readable, _, _ = select.select([connection], [], [], 0)
    return bool(readable)
