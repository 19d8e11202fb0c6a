"""SQLAlchemy Core statements compiled once and run by psycopg itself.

SQLAlchemy builds and compiles the SQL (its psycopg dialect: ``%(name)s``
parameters, quoting, ``ESCAPE``); psycopg runs it on the connection SQLAlchemy's
pool checked out. Skipping SQLAlchemy's execution layer (execution context,
greenlet-bridged cursor adapter, result object) halves the client CPU of a
one-row read: 105 µs instead of 197 µs in a loop on our CI machines, and about
a tenth of the items service's CPU per request under load.

That is exact only when SQLAlchemy would not convert any value itself: no
bind processor on a parameter, every result column of a type psycopg returns
as SQLAlchemy does, no parameters expanded at execution time, no execution
options. :func:`plan` checks this once per statement and returns ``None``
otherwise, and such a statement runs through SQLAlchemy as usual.
"""

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, sqltypes
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import ValuesBase
from sqlalchemy.types import TypeEngine

#: Result types psycopg decodes to exactly what SQLAlchemy returns on this dialect.
_DECODED_BY_PSYCOPG: tuple[type[TypeEngine[Any]], ...] = (
    sqltypes.Integer,
    sqltypes.String,
    sqltypes.DateTime,
    sqltypes.Date,
    sqltypes.Time,
    sqltypes.Boolean,
    sqltypes.NullType,
)


@dataclass(frozen=True, slots=True)
class DirectStatement:
    """A statement's SQL and how to fill in its parameters, for ``cursor.execute``."""

    sql: str
    compiled: SQLCompiler

    def parameters(self, values: Mapping[str, Any] | None) -> Mapping[str, Any]:
        """Every parameter of the statement: ``values`` plus those bound at build time."""
        return self.compiled.construct_params(values)


def _decoded_by_psycopg(type_: TypeEngine[Any]) -> bool:
    # An Enum is a String that SQLAlchemy converts: not decoded as is.
    return isinstance(type_, _DECODED_BY_PSYCOPG) and not isinstance(type_, sqltypes.Enum)


def _compile(
    statement: Executable, dialect: Dialect, column_keys: tuple[str, ...]
) -> DirectStatement | None:
    if not isinstance(statement, ClauseElement) or statement.get_execution_options():
        return None
    compiled = statement.compile(dialect=dialect, column_keys=list(column_keys))
    if not isinstance(compiled, SQLCompiler):
        return None
    if compiled.post_compile_params or compiled.literal_execute_params:
        return None
    for bind in compiled.binds.values():
        if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
            return None
    returned = getattr(statement, "exported_columns", ())
    if not all(_decoded_by_psycopg(column.type) for column in returned):
        return None
    return DirectStatement(compiled.string, compiled)


#: Per statement, per set of parameter names (an ``INSERT``/``UPDATE`` without
#: ``.values()`` sets the columns it is given): its plan.
_plans: "weakref.WeakKeyDictionary[Executable, dict[tuple[str, ...], DirectStatement | None]]" = (
    weakref.WeakKeyDictionary()
)


def plan(
    statement: Executable, dialect: Dialect, params: Mapping[str, Any] | None
) -> DirectStatement | None:
    """The statement as psycopg runs it with ``params``, or ``None`` when SQLAlchemy must run it.

    Compiled on first use and remembered as long as the statement object
    lives: build statements once (module constants, ``functools.cache``).
    """
    column_keys = tuple(sorted(params)) if params and isinstance(statement, ValuesBase) else ()
    by_columns = _plans.setdefault(statement, {})
    try:
        return by_columns[column_keys]
    except KeyError:
        direct = by_columns[column_keys] = _compile(statement, dialect, column_keys)
        return direct
