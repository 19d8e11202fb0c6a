"""Graceful shutdown: stop being chosen first, stop serving later.

On SIGTERM a service does not stop at once. For ``drain_seconds`` it keeps
serving every request, old connections and new, while its ``/readyz``
answers 503, so whatever spreads load over its replicas (the gateway, a
Kubernetes Service, Swarm's DNS) stops choosing it. Then the server's own
shutdown runs: it stops accepting, closes idle connections and finishes the
requests it holds (uvicorn's ``--timeout-graceful-shutdown`` bounds that).

The server (uvicorn) installs its SIGTERM handler before the app's lifespan
starts; :meth:`GracefulShutdown.install` puts the drain in front of it and
hands the signal on when the drain is over. Nothing is installed when the app
does not run in the main thread (tests serving it from a thread) or the drain
is zero.
"""

import asyncio
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType

logger = logging.getLogger(__name__)

SignalHandler = Callable[[int, FrameType | None], object]


class GracefulShutdown:
    def __init__(self, drain_seconds: float) -> None:
        self.drain_seconds = drain_seconds
        self.draining = False
        self._server_handler: SignalHandler | None = None

    def install(self) -> None:
        """Drain on SIGTERM before the server's own handler runs; call from the lifespan."""
        if self.drain_seconds <= 0 or threading.current_thread() is not threading.main_thread():
            return
        server_handler = signal.getsignal(signal.SIGTERM)
        if not callable(server_handler):
            return  # no server handler to hand over to: leave the default
        self._server_handler = server_handler
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.begin)

    def begin(self) -> None:
        """Start draining (a second SIGTERM while draining changes nothing)."""
        if self.draining:
            return
        self.draining = True
        logger.info("SIGTERM: draining for %.1f s, then shutting down", self.drain_seconds)
        asyncio.get_running_loop().call_later(self.drain_seconds, self._hand_over)

    def _hand_over(self) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_signal_handler(signal.SIGTERM)
        if self._server_handler is not None:
            signal.signal(signal.SIGTERM, self._server_handler)
            self._server_handler(signal.SIGTERM, None)


def wait_for_drain(port: int, *, pid: int = 1, poll_seconds: float = 0.2) -> None:
    """Kubernetes ``preStop``: start the server's drain, return once it stops accepting.

    The kubelet sends its own SIGTERM after the hook returns; by then the drain
    is over and that signal changes nothing. ``terminationGracePeriodSeconds``
    bounds the whole wait.
    """
    os.kill(pid, signal.SIGTERM)
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=poll_seconds).close()
        except OSError:
            return
        time.sleep(poll_seconds)


if __name__ == "__main__":  # python -m flotilla.shutdown [PORT]
    wait_for_drain(int(sys.argv[1]) if len(sys.argv) > 1 else 8000)
