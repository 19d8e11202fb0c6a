"""Prove that the compose stack keeps its data across ``docker compose down`` and ``up``.

    python3 ci/compose/persistence.py write STATE   # a new user with an item, saved to STATE
    python3 ci/compose/persistence.py check STATE   # after down + up: all of it still there

``write`` registers a user, logs in and creates an item through the gateway at ``GATEWAY_URL``.
``check`` logs in again with the same password (users' database kept), reads the item
(items' database kept) and updates it with the token issued before the restart (the
development signing key in the users-data volume kept, and items trusts it). Standard
library only, so any ``python3`` runs it.
"""

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

PASSWORD = "persistence password 123"  # noqa: S105 (a throwaway CI user)


class PersistenceError(Exception):
    """The stack answered, but not as it should after a restart."""


def call(
    method: str,
    path: str,
    *,
    json_body: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    token: str | None = None,
    expect: int = 200,
) -> Any:
    """One request to the gateway; the decoded JSON body, or PersistenceError on another status."""
    url = os.environ["GATEWAY_URL"].rstrip("/") + path
    if not url.startswith(("http://", "https://")):
        raise PersistenceError(f"GATEWAY_URL must be an http(s) URL, not {url!r}")
    headers = {"Accept": "application/json"}
    data = None
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 (scheme checked above)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 (scheme checked above)
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    if status != expect:
        raise PersistenceError(f"{method} {path}: expected {expect}, got {status}: {body[:300]!r}")
    return json.loads(body) if body else None


def log_in(email: str) -> str:
    token = call("POST", "/api/v1/auth/token", form={"username": email, "password": PASSWORD})
    return str(token["access_token"])


def write(state_file: Path) -> None:
    email = f"persistence-{uuid.uuid4().hex[:12]}@ci.example.com"
    user = call(
        "POST",
        "/api/v1/auth/register",
        json_body={"email": email, "password": PASSWORD},
        expect=201,
    )
    token = log_in(email)
    item = call(
        "POST",
        "/api/v1/items/",
        json_body={"name": "kept across restarts", "description": "before", "price": 4200},
        token=token,
        expect=201,
    )
    state_file.write_text(json.dumps({"user": user, "item": item, "token": token}))
    print(f"persistence: wrote user {user['id']} ({email}) and item {item['id']}")


def check(state_file: Path) -> None:
    state = json.loads(state_file.read_text())
    user, item, old_token = state["user"], state["item"], state["token"]

    log_in(user["email"])
    me = call("GET", "/api/v1/users/me", token=old_token)
    if me != user:
        raise PersistenceError(f"users/me after restart is {me}, expected {user}")
    read = call("GET", f"/api/v1/items/{item['id']}")
    if read != item:
        raise PersistenceError(f"item after restart is {read}, expected {item}")
    patched = call(
        "PATCH", f"/api/v1/items/{item['id']}", json_body={"description": "after"}, token=old_token
    )
    if patched["description"] != "after" or patched["owner_id"] != user["id"]:
        raise PersistenceError(f"patching the item after restart gave {patched}")
    print(
        f"persistence: user {user['id']} logs in with the same password, item {item['id']} "
        "is unchanged, and the token issued before the restart is still accepted"
    )


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("write", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        (write if argv[1] == "write" else check)(Path(argv[2]))
    except PersistenceError as failure:
        print(f"persistence: FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
