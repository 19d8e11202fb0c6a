"""Error responses in the contract's shape; nothing internal ever reaches a client."""

import logging

from fastapi import FastAPI, Request
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
