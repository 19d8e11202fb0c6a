"""Fault injection: a TCP proxy in front of Postgres that can cut the database off.

Cutting closes every open connection and refuses new ones, which is what a
service sees when its database goes down; restoring lets it reconnect.
"""

import asyncio
import contextlib
from pathlib import Path

from sqlalchemy.engine import URL


class DatabaseProxy:
    def __init__(self, server_url: URL) -> None:
        self._server_url = server_url
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self.port = 0

    def url_for(self, database_url: URL) -> URL:
        """``database_url`` rerouted through this proxy."""
        query = {k: v for k, v in database_url.query.items() if k != "host"}
        return database_url.set(host="127.0.0.1", port=self.port, query=query)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """The database goes away: existing connections drop, new ones are refused."""
        server, self._server = self._server, None
        if server is not None:
            server.close()  # stop accepting
        for writer in list(self._connections):
            writer.close()
        self._connections.clear()
        if server is not None:
            # Since Python 3.12 this also waits for the handlers of the connections
            # closed above, so it must come after them.
            await server.wait_closed()

    async def restore(self) -> None:
        await self.start()

    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        socket_dir = self._server_url.query.get("host")
        port = self._server_url.port or 5432
        if isinstance(socket_dir, str) and socket_dir.startswith("/"):
            return await asyncio.open_unix_connection(str(Path(socket_dir) / f".s.PGSQL.{port}"))
        return await asyncio.open_connection(self._server_url.host, port)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await self._open_upstream()
        except OSError:
            writer.close()
            return
        self._connections.update((writer, upstream_writer))
        await asyncio.gather(
            _pipe(reader, upstream_writer), _pipe(upstream_reader, writer), return_exceptions=True
        )
        self._connections.difference_update((writer, upstream_writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(OSError):
            writer.close()
