"""Error answers shared by the auth and users routes."""

from fastapi import HTTPException, status

from flotilla.responses import error_response
from users.login import LockedOutError

TOO_MANY_FAILURES = "Too many failed login attempts"
LOCKED_OUT = error_response(429, f"{TOO_MANY_FAILURES}; see Retry-After")


def locked_out(error: LockedOutError) -> HTTPException:
    """429 while the email is locked out, with the seconds left in ``Retry-After``."""
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail=TOO_MANY_FAILURES,
        headers={"Retry-After": str(error.retry_after_seconds)},
    )
