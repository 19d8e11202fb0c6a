"""Merging the services' OpenAPI documents into one for the whole public API.

Paths are kept as they are (the services already use the public paths), but
only those the routing table sends to that service: a service's own
``/healthz`` is not reachable through the gateway, the gateway's is.

Components (schemas, security schemes, ...) with the same name are kept once
when their definitions are identical (FastAPI's ``HTTPValidationError`` in
every service) and renamed ``<service>_<name>`` in every service that has a
differing one, with each ``$ref`` and security requirement rewritten to match.
"""

from collections.abc import Mapping
from typing import Any

from gateway.routing import RouteTable

OpenApi = dict[str, Any]
#: (components section, name), e.g. ("schemas", "Item").
ComponentKey = tuple[str, str]
Renames = dict[ComponentKey, str]

_COMPONENTS_REF = "#/components/"


def rewrite_refs(node: Any, renames: Renames) -> Any:
    """A copy of ``node`` whose ``$ref``s and security requirements use the renamed components."""
    if isinstance(node, list):
        return [rewrite_refs(item, renames) for item in node]
    if not isinstance(node, dict):
        return node
    rewritten: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str) and value.startswith(_COMPONENTS_REF):
            section, _, name = value.removeprefix(_COMPONENTS_REF).partition("/")
            new_name = renames.get((section, name), name)
            rewritten[key] = f"{_COMPONENTS_REF}{section}/{new_name}"
        elif key == "security" and isinstance(value, list):
            rewritten[key] = [_rename_schemes(requirement, renames) for requirement in value]
        else:
            rewritten[key] = rewrite_refs(value, renames)
    return rewritten


def _rename_schemes(requirement: Any, renames: Renames) -> Any:
    if not isinstance(requirement, dict):
        return requirement
    return {renames.get(("securitySchemes", name), name): s for name, s in requirement.items()}


def _components(document: OpenApi) -> dict[ComponentKey, Any]:
    sections: dict[str, dict[str, Any]] = document.get("components", {})
    return {
        (section, name): definition
        for section, entries in sections.items()
        for name, definition in entries.items()
    }


def _clash_renames(documents: Mapping[str, OpenApi]) -> dict[str, Renames]:
    """Per service, the components it must rename because another service defines them differently.

    Renaming can make two definitions differ that were equal before (both
    refer to a renamed schema), so this repeats until nothing changes.
    """
    originals = {service: _components(document) for service, document in documents.items()}
    renames: dict[str, Renames] = {service: {} for service in documents}
    while True:
        definitions: dict[ComponentKey, dict[str, Any]] = {}
        for service, components in originals.items():
            for key, definition in components.items():
                definitions.setdefault(key, {})[service] = rewrite_refs(
                    definition, renames[service]
                )
        changed = False
        for key, by_service in definitions.items():
            first, *others = by_service.values()
            if any(other != first for other in others):
                for service in by_service:
                    if key not in renames[service]:
                        renames[service][key] = f"{service}_{key[1]}"
                        changed = True
        if not changed:
            return renames


def merge_openapi(
    own: OpenApi,
    upstreams: Mapping[str, OpenApi],
    routes: RouteTable,
    *,
    title: str,
    version: str,
) -> OpenApi:
    """One document: the gateway's own paths plus each upstream's paths that route to it.

    ``upstreams`` holds the documents that could be fetched; a missing one
    leaves its paths out and is named in the description.
    """
    documents = {"gateway": own, **upstreams}
    renames = _clash_renames(documents)
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {}
    tags: dict[str, Any] = {}
    for service, document in documents.items():
        rewritten = rewrite_refs(document, renames[service])
        for path, item in rewritten.get("paths", {}).items():
            route = routes.match(path)
            served_here = (
                route is None
                if service == "gateway"
                else (route is not None and route.upstream.name == service)
            )
            if served_here:
                paths[path] = item
        for section, entries in rewritten.get("components", {}).items():
            for name, definition in entries.items():
                new_name = renames[service].get((section, name), name)
                components.setdefault(section, {})[new_name] = definition
        for tag in rewritten.get("tags", []):
            tags.setdefault(tag["name"], tag)

    missing = sorted(set(routes.upstreams) - set(upstreams))
    description = "The whole public API of Flotilla, served through the gateway."
    if missing:
        description += f" Unavailable while this document was built: {', '.join(missing)}."
    merged: OpenApi = {
        "openapi": own.get("openapi", "3.1.0"),
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
    }
    if components:
        merged["components"] = components
    if tags:
        merged["tags"] = list(tags.values())
    return merged
