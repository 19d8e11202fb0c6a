"""Real HTTP servers on loopback for tests: an ASGI app served in a thread, as in production."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from flotilla.server import server_config, settings_of


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve_in_thread(
    app: ASGIApp, *, port: int | None = None, host: str = "127.0.0.1"
) -> Iterator[str]:
    """Serve ``app`` on ``host`` (a loopback address) until the block ends; yields its base URL.

    The server is configured as :mod:`flotilla.server` runs every service, with
    the limits of the app's settings (the defaults for an app without them).
    """
    port = port or free_port()
    server = uvicorn.Server(server_config(app, settings_of(app), host=host, port=port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"test server on port {port} did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
