from typing import Any

from flotilla.openapi import integer_bounds_as_integers, use_token_url
from flotilla.validation import INT64_MAX


def test_integer_bounds_become_integers_and_the_int64_maximum_stays_exact() -> None:
    schema: dict[str, Any] = {"type": "integer", "minimum": 0.0, "maximum": float(2**63 - 1)}

    integer_bounds_as_integers({"components": {"schemas": {"Price": schema}}})

    assert schema == {"type": "integer", "minimum": 0, "maximum": INT64_MAX}
    assert isinstance(schema["minimum"], int)


def test_only_integer_schemas_change_wherever_they_are_nested() -> None:
    number = {"type": "number", "maximum": 2.5}
    nested = {"type": "integer", "exclusiveMaximum": 100.0}
    document = {"anyOf": [number, {"properties": {"n": nested}}]}

    integer_bounds_as_integers(document)

    assert number == {"type": "number", "maximum": 2.5}
    assert nested == {"type": "integer", "exclusiveMaximum": 100}


def test_every_password_flow_gets_the_token_url() -> None:
    password: dict[str, Any] = {"type": "oauth2", "flows": {"password": {"tokenUrl": "token"}}}
    bearer: dict[str, Any] = {"type": "http", "scheme": "bearer"}
    document = {"components": {"securitySchemes": {"Password": password, "Bearer": bearer}}}

    use_token_url(document, "https://api.example/api/v1/auth/token")

    assert password["flows"]["password"]["tokenUrl"] == "https://api.example/api/v1/auth/token"
    assert bearer == {"type": "http", "scheme": "bearer"}
