"""Error responses in the contract's shape; nothing internal ever reaches a client."""

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from flotilla.request_id import REQUEST_ID_HEADER, SCOPE_KEY

logger = logging.getLogger(__name__)


async def internal_error(request: Request, error: Exception) -> JSONResponse:
    """Log the fault with its traceback; answer a bare 500 without details."""
    logger.error("unhandled error", exc_info=(type(error), error, error.__traceback__))
    request_id = request.scope.get(SCOPE_KEY)
    headers = {REQUEST_ID_HEADER: request_id} if request_id else None
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500, headers=headers)


def install_internal_error_handler(app: FastAPI) -> None:
    app.add_exception_handler(Exception, internal_error)


class _AsciiJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        return text.encode("ascii")


async def request_validation_error(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 (``{loc, msg, type}`` per error) without echoing the input.

    The echoed ``input`` could be a password, megabytes long, or JSON that
    cannot be rendered again (``NaN``); ASCII escaping covers lone surrogates
    (``"\\ud800"``) that UTF-8 cannot encode, even in a ``loc``.
    """
    if not isinstance(error, RequestValidationError):
        return await internal_error(request, error)
    errors = [{k: v for k, v in e.items() if k != "input"} for e in error.errors()]
    return _AsciiJSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


def install_validation_error_handler(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, request_validation_error)
