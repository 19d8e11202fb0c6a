"""Input types shared by the services' request schemas."""

from pydantic import AfterValidator

#: Postgres' bigint range: an id, an offset or a count beyond it is a 422, not a database error.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def storable_text(value: str) -> str:
    """Refuse what Postgres cannot store: NUL characters and unpaired surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


#: For ``Annotated[str, ..., STORABLE]``: a string a Postgres text column can hold (a 422,
#: not a database error, otherwise). After length constraints, so those keep their error types.
STORABLE = AfterValidator(storable_text)
