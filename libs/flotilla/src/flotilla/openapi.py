"""The OpenAPI document every service publishes: exact integer bounds, its token URL.

FastAPI's OpenAPI model holds ``minimum``/``maximum`` as floats, so a bound
such as the int64 maximum 2^63-1 came out as ``9.223372036854776e+18``.
Integer schemas get integer bounds back; a float bound that rounded past the
int64 range is that range's end (no Postgres-backed field goes beyond it).
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from flotilla.validation import INT64_MAX, INT64_MIN

BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def integer_bounds_as_integers(node: Any) -> None:
    """Rewrite, in place, the float bounds of every integer schema under ``node``."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            for key in BOUNDS:
                value = node.get(key)
                if isinstance(value, float) and value.is_integer():
                    node[key] = min(max(int(value), INT64_MIN), INT64_MAX)
        for child in node.values():
            integer_bounds_as_integers(child)
    elif isinstance(node, list):
        for child in node:
            integer_bounds_as_integers(child)


def use_token_url(document: dict[str, Any], token_url: str) -> None:
    """Point every OAuth2 password flow of ``document`` at ``token_url``, in place."""
    schemes = document.get("components", {}).get("securitySchemes", {})
    for scheme in schemes.values():
        password = (
            scheme.get("flows", {}).get("password") if scheme.get("type") == "oauth2" else None
        )
        if password is not None:
            password["tokenUrl"] = token_url


def exact_openapi(app: FastAPI, token_url: str) -> Callable[[], dict[str, Any]]:
    """A replacement for ``app.openapi`` (FastAPI's "Extending OpenAPI" recipe)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            integer_bounds_as_integers(document)
            use_token_url(document, token_url)
            app.openapi_schema = document
        return app.openapi_schema

    return openapi
