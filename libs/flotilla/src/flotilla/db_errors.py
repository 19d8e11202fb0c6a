"""What a database error means for a request: an outage, a conflict worth retrying, a timeout.

Postgres says what went wrong in the error's SQLSTATE; psycopg 3 files many
different things under ``OperationalError`` (a deadlock and a refused
connection alike), so the class alone does not tell an outage from a conflict.

- ``UNAVAILABLE``: the database could not be reached, broke the connection,
  is shutting down, or no pooled connection came free in time. Answered 503;
  the service recovers by itself once the database is back.
- ``CONFLICT``: a deadlock or a serialization failure. Postgres rolled the
  work back, so running it again is safe: the library retries the unit of
  work (one autocommit statement, or a transaction given as a callable) a
  bounded number of times before answering 503 with ``Retry-After``.
- ``TIMEOUT``: a lock timeout or a statement timeout cancelled the statement.
  Answered 503; retrying at once would most likely wait just as long.
"""

import enum

from psycopg import errors as pg_errors
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout


class DatabaseFault(enum.Enum):
    UNAVAILABLE = "database unavailable"
    CONFLICT = "database conflict (deadlock or serialization failure)"
    TIMEOUT = "database timeout (lock or statement timeout)"


_CONFLICTS = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)
_TIMEOUTS = (pg_errors.LockNotAvailable, pg_errors.QueryCanceled)
#: SQLSTATE classes that mean the server is gone or going: connection
#: exceptions (08), operator intervention such as a shutdown (57P01..57P03),
#: too many connections (53300).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def classify(error: BaseException) -> DatabaseFault | None:
    """The fault ``error`` stands for, or ``None`` for an error of the statement itself.

    ``None`` covers constraint violations, bad SQL and the like: bugs or
    input the service should have refused, answered 500 unless handled.
    """
    if isinstance(error, PoolTimeout):
        return DatabaseFault.UNAVAILABLE
    if not isinstance(error, DBAPIError):
        return None
    if error.connection_invalidated:
        return DatabaseFault.UNAVAILABLE
    cause = error.orig
    if isinstance(cause, _CONFLICTS):
        return DatabaseFault.CONFLICT
    if isinstance(cause, _TIMEOUTS):
        return DatabaseFault.TIMEOUT
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is None:
        # No answer from a server at all: the connection could not be made or was lost.
        return DatabaseFault.UNAVAILABLE if isinstance(cause, pg_errors.OperationalError) else None
    if sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
        return DatabaseFault.UNAVAILABLE
    return None


def is_retryable(error: BaseException) -> bool:
    """A conflict Postgres rolled back: the same work may simply be run again."""
    return classify(error) is DatabaseFault.CONFLICT
