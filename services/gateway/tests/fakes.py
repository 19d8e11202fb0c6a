"""A stand-in upstream service for the gateway's unit tests.

It answers every path under its prefix by echoing what it received, has a
few paths with special answers (statuses, headers, streaming, hanging), its
own ``/readyz`` and a real FastAPI-generated ``/openapi.json``, and records
which requests reached it and which it read completely.
"""

import asyncio
import copy
import gzip
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
#: How long ``/hang`` keeps the gateway waiting: far beyond the gateway's read timeout.
HANG_SECONDS = 30.0
STREAM_CHUNKS = [b"first,", b"second,", b"third"]


@dataclass(frozen=True)
class Received:
    method: str
    raw_path: str
    query_string: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key == name.lower()]
        return values[0] if values else None


@dataclass
class FakeUpstream:
    name: str
    #: Where its paths live, e.g. ``/api/v1/items``.
    prefix: str
    #: Raw paths of the requests that reached the app (its headers arrived).
    arrived: list[str] = field(default_factory=list)
    #: Requests whose body was read to the end.
    completed: list[Received] = field(default_factory=list)
    ready: bool = True
    openapi_fetches: int = 0

    def reset(self) -> None:
        self.arrived.clear()
        self.completed.clear()
        self.ready = True

    @property
    def last(self) -> Received:
        return self.completed[-1]

    def asgi_app(self) -> ASGIApp:
        return _RecordArrival(build_fake_app(self), self)


class _RecordArrival:
    def __init__(self, app: ASGIApp, upstream: FakeUpstream) -> None:
        self.app = app
        self.upstream = upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.upstream.arrived.append(scope["raw_path"].decode())
        await self.app(scope, receive, send)


class Profile(BaseModel):
    """Named alike in both fakes, defined differently: the merged docs must keep both."""

    label: str


class OtherProfile(BaseModel):
    count: int


def build_fake_app(upstream: FakeUpstream) -> FastAPI:
    app = FastAPI(title=f"fake {upstream.name}", redirect_slashes=False, openapi_url=None)
    bearer = HTTPBearer(description=f"tokens for {upstream.name}")
    model = Profile if upstream.name == "users" else OtherProfile
    model_name = "Profile"

    # Documented routes, for the merged OpenAPI document.
    @app.get(f"{upstream.prefix}/documented/{{thing_id}}", response_model=model)
    async def documented(
        thing_id: int,
        credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
        verbose: Annotated[bool, Query()] = False,
    ) -> BaseModel:
        return model.model_validate({"label": "x", "count": 1})

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    async def openapi(request: Request) -> JSONResponse:
        upstream.openapi_fetches += 1
        document = copy.deepcopy(app.openapi())
        schemas = document["components"]["schemas"]
        schemas[model_name] = schemas.pop(model.__name__)  # the clash, under one name
        for operation in document["paths"][f"{upstream.prefix}/documented/{{thing_id}}"].values():
            response = operation["responses"]["200"]["content"]["application/json"]
            response["schema"] = {"$ref": f"#/components/schemas/{model_name}"}
        return JSONResponse(document)

    async def readyz(request: Request) -> JSONResponse:
        status = 200 if upstream.ready else 503
        return JSONResponse({"status": "ok" if upstream.ready else "unavailable"}, status)

    async def echo(request: Request) -> Response:
        try:
            body = await request.body()
        except ClientDisconnect:  # the request was cut before its body ended: not completed
            return Response(status_code=499)
        received = Received(
            method=request.method,
            raw_path=request.scope["raw_path"].decode(),
            query_string=request.scope["query_string"].decode(),
            headers=[(k.decode(), v.decode()) for k, v in request.scope["headers"]],
            body=body,
        )
        upstream.completed.append(received)
        return JSONResponse(
            {
                "upstream": upstream.name,
                "method": received.method,
                "raw_path": received.raw_path,
                "body_sha256": hashlib.sha256(body).hexdigest(),
            }
        )

    async def created(request: Request) -> Response:
        return JSONResponse({"id": 7}, 201, headers={"Location": f"{upstream.prefix}/7"})

    async def empty(request: Request) -> Response:
        return Response(status_code=204)

    async def throttled(request: Request) -> Response:
        return JSONResponse({"detail": "Too many"}, 429, headers={"Retry-After": "30"})

    async def hop_headers(request: Request) -> Response:
        response = JSONResponse({"ok": True})
        response.headers["Connection"] = "X-Upstream-Hop"
        response.headers["X-Upstream-Hop"] = "secret"
        response.headers["Keep-Alive"] = "timeout=5"
        response.headers["Proxy-Authenticate"] = "Basic"
        response.headers["Trailer"] = "X-Checksum"
        response.headers["X-End-To-End"] = "kept"
        return response

    async def cookies(request: Request) -> Response:
        response = JSONResponse({"ok": True})
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    async def gzipped(request: Request) -> Response:
        return Response(
            gzip.compress(b"compressed body"),
            media_type="text/plain",
            headers={"Content-Encoding": "gzip"},
        )

    async def stream(request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for chunk in STREAM_CHUNKS:
                yield chunk
                await asyncio.sleep(0.01)

        return StreamingResponse(chunks(), media_type="text/plain")

    async def broken_stream(request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"the beginning,"
            await asyncio.sleep(0.05)
            raise RuntimeError("the upstream dies mid-body")

        return StreamingResponse(chunks(), media_type="text/plain")

    async def hang(request: Request) -> Response:
        # Until the gateway gives up and disconnects (or, at the latest, HANG_SECONDS).
        deadline = asyncio.get_running_loop().time() + HANG_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            if await request.is_disconnected():
                break
            await asyncio.sleep(0.05)
        return JSONResponse({"finally": True})

    app.add_route("/openapi.json", openapi)
    app.add_route("/readyz", readyz)
    for path, endpoint in {
        "created": created,
        "empty": empty,
        "throttled": throttled,
        "hop-headers": hop_headers,
        "cookies": cookies,
        "gzipped": gzipped,
        "stream": stream,
        "broken-stream": broken_stream,
        "hang": hang,
    }.items():
        app.add_route(f"{upstream.prefix}/special/{path}", endpoint, methods=ALL_METHODS)
    app.add_route("/{path:path}", echo, methods=ALL_METHODS)
    return app
