"""merge_openapi on hand-made documents: the rules, one at a time."""

from typing import Any

import pytest

from gateway.openapi_merge import merge_openapi, rewrite_refs
from gateway.routing import RouteTable

ROUTES = RouteTable(
    {"/api/v1/auth": "users", "/api/v1/users": "users", "/api/v1/items": "items"},
    {"users": "http://users", "items": "http://items"},
)
VALIDATION_ERROR = {"type": "object", "properties": {"detail": {"type": "array"}}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def document(paths: dict[str, Any], schemas: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"openapi": "3.1.0", "paths": paths, "components": {"schemas": schemas, **extra}}


def get_returning(schema: dict[str, Any]) -> dict[str, Any]:
    return {"get": {"responses": {"200": {"content": {"application/json": {"schema": schema}}}}}}


def merge(**upstreams: dict[str, Any]) -> dict[str, Any]:
    own = {"openapi": "3.1.0", "paths": {"/healthz": {"get": {}}}}
    return merge_openapi(own, upstreams, ROUTES, title="T", version="1")


@pytest.fixture
def users_doc() -> dict[str, Any]:
    return document(
        {"/api/v1/users/me": get_returning(ref("User")), "/healthz": {"get": {}}},
        {"User": {"type": "object"}, "HTTPValidationError": VALIDATION_ERROR},
    )


@pytest.fixture
def items_doc() -> dict[str, Any]:
    return document(
        {"/api/v1/items/{item_id}": get_returning(ref("Item")), "/healthz": {"get": {}}},
        {"Item": {"type": "object"}, "HTTPValidationError": VALIDATION_ERROR},
    )


def test_paths_come_from_the_upstream_they_route_to(
    users_doc: dict[str, Any], items_doc: dict[str, Any]
) -> None:
    merged = merge(users=users_doc, items=items_doc)

    assert set(merged["paths"]) == {"/healthz", "/api/v1/users/me", "/api/v1/items/{item_id}"}


def test_an_upstreams_unrouted_paths_are_left_out(users_doc: dict[str, Any]) -> None:
    users_doc["paths"]["/api/v1/items/sneaky"] = {"get": {}}

    merged = merge(users=users_doc)

    assert "/api/v1/items/sneaky" not in merged["paths"]


def test_the_gateways_own_healthz_wins_over_the_upstreams(users_doc: dict[str, Any]) -> None:
    users_doc["paths"]["/healthz"] = {"get": {"summary": "users' own"}}

    merged = merge(users=users_doc)

    assert merged["paths"]["/healthz"] == {"get": {}}


def test_identical_components_are_kept_once_under_their_name(
    users_doc: dict[str, Any], items_doc: dict[str, Any]
) -> None:
    merged = merge(users=users_doc, items=items_doc)

    assert merged["components"]["schemas"]["HTTPValidationError"] == VALIDATION_ERROR
    assert set(merged["components"]["schemas"]) == {"User", "Item", "HTTPValidationError"}


def test_differing_components_are_prefixed_with_their_service_and_refs_follow(
    users_doc: dict[str, Any], items_doc: dict[str, Any]
) -> None:
    users_doc["components"]["schemas"]["Page"] = {"items": {"type": "array", "items": ref("User")}}
    items_doc["components"]["schemas"]["Page"] = {"items": {"type": "array", "items": ref("Item")}}
    users_doc["paths"]["/api/v1/users"] = get_returning(ref("Page"))
    items_doc["paths"]["/api/v1/items"] = get_returning(ref("Page"))

    merged = merge(users=users_doc, items=items_doc)
    schemas = merged["components"]["schemas"]

    assert "Page" not in schemas
    assert schemas["users_Page"]["items"]["items"] == ref("User")
    assert schemas["items_Page"]["items"]["items"] == ref("Item")
    items_page = merged["paths"]["/api/v1/items"]["get"]["responses"]["200"]
    assert items_page["content"]["application/json"]["schema"] == ref("items_Page")


def test_a_component_referring_to_a_renamed_one_is_renamed_too(
    users_doc: dict[str, Any], items_doc: dict[str, Any]
) -> None:
    users_doc["components"]["schemas"]["Owner"] = {"title": "users' owner"}
    items_doc["components"]["schemas"]["Owner"] = {"title": "items' owner"}
    # Written alike, but each means its own service's Owner.
    users_doc["components"]["schemas"]["Wrapper"] = {"properties": {"o": ref("Owner")}}
    items_doc["components"]["schemas"]["Wrapper"] = {"properties": {"o": ref("Owner")}}

    schemas = merge(users=users_doc, items=items_doc)["components"]["schemas"]

    assert schemas["users_Wrapper"]["properties"]["o"] == ref("users_Owner")
    assert schemas["items_Wrapper"]["properties"]["o"] == ref("items_Owner")


def test_security_schemes_merge_and_requirements_follow_renames(
    users_doc: dict[str, Any], items_doc: dict[str, Any]
) -> None:
    users_doc["components"]["securitySchemes"] = {"Bearer": {"type": "http", "scheme": "bearer"}}
    items_doc["components"]["securitySchemes"] = {
        "Bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    items_doc["paths"]["/api/v1/items/{item_id}"]["get"]["security"] = [{"Bearer": []}]

    merged = merge(users=users_doc, items=items_doc)

    assert set(merged["components"]["securitySchemes"]) == {"users_Bearer", "items_Bearer"}
    operation = merged["paths"]["/api/v1/items/{item_id}"]["get"]
    assert operation["security"] == [{"items_Bearer": []}]


def test_a_missing_upstream_is_named_in_the_description(items_doc: dict[str, Any]) -> None:
    merged = merge(items=items_doc)

    assert "/api/v1/items/{item_id}" in merged["paths"]
    assert "Unavailable while this document was built: users." in merged["info"]["description"]


def test_the_upstream_documents_are_not_modified(
    users_doc: dict[str, Any], items_doc: dict[str, Any]
) -> None:
    users_doc["components"]["schemas"]["User"] = {"title": "one"}
    items_doc["components"]["schemas"]["User"] = {"title": "two"}
    users_doc["paths"]["/api/v1/users/me"] = get_returning(ref("User"))
    before = repr(users_doc)

    merge(users=users_doc, items=items_doc)

    assert repr(users_doc) == before


def test_refs_outside_components_are_left_alone() -> None:
    node = {"$ref": "https://example.com/schema.json", "nested": [{"$ref": "#/defs/x"}]}

    assert rewrite_refs(node, {("schemas", "x"): "y"}) == node
