"""The routing table: which upstream serves a request path."""

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Upstream:
    name: str
    #: Scheme, host and port, without a trailing slash: ``http://127.0.0.1:8002``.
    base_url: str


def is_under(path: str, prefix: str) -> bool:
    """Prefix match on whole path segments: ``/a/b`` is under ``/a/b`` and ``/a``, not ``/a/bc``."""
    return path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/")


@dataclass(frozen=True, slots=True)
class Route:
    prefix: str
    upstream: Upstream

    @property
    def path(self) -> str:
        """The route's label in metrics and access logs (like a Starlette ``Mount``'s path)."""
        return self.prefix

    def matches(self, path: str) -> bool:
        return is_under(path, self.prefix)


class RouteTable:
    """Routes tried longest prefix first, so a more specific prefix wins."""

    def __init__(self, routes: Mapping[str, str], upstreams: Mapping[str, str]) -> None:
        self.upstreams = {name: Upstream(name, url) for name, url in upstreams.items()}
        self.routes = sorted(
            (Route(prefix, self.upstreams[name]) for prefix, name in routes.items()),
            key=lambda route: len(route.prefix),
            reverse=True,
        )

    def match(self, path: str) -> Route | None:
        for route in self.routes:
            if route.matches(path):
                return route
        return None
