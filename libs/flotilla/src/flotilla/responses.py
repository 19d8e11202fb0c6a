"""OpenAPI entries for the error responses every service shares.

A route lists the ones it can answer in ``responses=``, so its schema names
every status code a client may get (the fuzzer, ``nox -s fuzz``, checks this):

    @router.patch("/me", responses={**UNAUTHORIZED, **MALFORMED_BODY})
"""

from typing import Any

from pydantic import BaseModel

Responses = dict[int | str, dict[str, Any]]


class ErrorMessage(BaseModel):
    """``{"detail": "..."}``: every error but a validation error (``422``)."""

    detail: str


def error_response(status: int, description: str) -> Responses:
    return {status: {"model": ErrorMessage, "description": description}}


#: No token, or an invalid or expired one, or one of an unknown user (``WWW-Authenticate: Bearer``).
UNAUTHORIZED = error_response(401, "Missing or invalid access token")
#: FastAPI's answer to a body it cannot decode at all, e.g. JSON that is not UTF-8.
MALFORMED_BODY = error_response(400, "The body could not be decoded")
