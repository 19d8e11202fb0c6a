"""``/docs`` and ``/redoc`` in a real headless Chromium, with no network but loopback.

    python -m tests_e2e.docs_browser      (``nox -s docs-browser`` runs it offline)

Starts a dev stack, opens the gateway's Swagger UI and ReDoc pages in the
system's Chromium (``CHROMIUM``, default ``chromium`` on ``PATH``) and checks
what the pages rendered, not their HTML: every operation of ``/openapi.json``
is on both pages, no request left the gateway, and the Authorize dialog
offers the OAuth2 password flow and logs a user in with it.
"""

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

from tests_e2e.stack import stack_under_test

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PASSWORD = "docs browser password"
RENDER_TIMEOUT_MS = 60_000
REDOC_FOOTER_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


class DocsCheckError(AssertionError):
    """What the page showed differs from what it should."""


def operation_count(gateway_url: str) -> int:
    document = httpx.get(f"{gateway_url}/openapi.json", timeout=30).json()
    return sum(1 for item in document["paths"].values() for method in item if method in METHODS)


@contextmanager
def chromium() -> Iterator[Browser]:
    executable = shutil.which(os.environ.get("CHROMIUM", "chromium"))
    if executable is None:
        raise DocsCheckError("no Chromium on PATH: apt-get install -y chromium")
    with sync_playwright() as playwright:
        # As root, Chromium runs only without its sandbox.
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def watched_page(browser: Browser, gateway_url: str, foreign: list[str]) -> Page:
    """A page that records every request not made to the gateway (or to itself: blobs)."""
    local = (gateway_url, f"blob:{gateway_url}", "data:")
    page = browser.new_page()
    page.on("request", lambda r: None if r.url.startswith(local) else foreign.append(r.url))
    return page


def check_swagger_ui(browser: Browser, gateway_url: str, expected: int, email: str) -> int:
    foreign: list[str] = []
    page = watched_page(browser, gateway_url, foreign)
    page.goto(f"{gateway_url}/docs")
    page.wait_for_selector(".opblock", timeout=RENDER_TIMEOUT_MS)
    rendered = page.locator(".opblock").count()
    if rendered != expected:
        raise DocsCheckError(f"/docs rendered {rendered} operations, /openapi.json has {expected}")

    page.click("button.authorize")
    page.wait_for_selector("#oauth_username", timeout=RENDER_TIMEOUT_MS)
    flow = page.locator(".auth-container").first.inner_text()
    if "password" not in flow.lower():
        raise DocsCheckError(f"the Authorize dialog offers no password flow: {flow!r}")
    page.fill("#oauth_username", email)
    page.fill("#oauth_password", PASSWORD)
    page.click(".auth-container .auth-btn-wrapper button.authorize")
    # Logged in: the dialog now offers to log out.
    page.wait_for_selector(
        '.auth-container button[aria-label="Remove authorization"]', timeout=RENDER_TIMEOUT_MS
    )
    if foreign:
        raise DocsCheckError(f"/docs requested outside the gateway: {foreign}")
    page.close()
    return rendered


def check_redoc(browser: Browser, gateway_url: str, expected: int) -> int:
    foreign: list[str] = []
    page = watched_page(browser, gateway_url, foreign)
    page.goto(f"{gateway_url}/redoc")
    operations = page.locator('[data-section-id^="operation/"]')
    operations.first.wait_for(timeout=RENDER_TIMEOUT_MS)
    rendered = operations.count()
    if rendered != expected:
        raise DocsCheckError(f"/redoc rendered {rendered} operations, /openapi.json has {expected}")
    # ReDoc's "powered by" footer logo is an image on Redocly's CDN that no option
    # removes; offline, that image alone is missing. Anything else would be a failure.
    essential = [url for url in foreign if not url.startswith(REDOC_FOOTER_LOGO)]
    if essential:
        raise DocsCheckError(f"/redoc requested outside the gateway: {essential}")
    page.close()
    return rendered


def main() -> None:
    with stack_under_test() as stack, chromium() as browser:
        email = f"docs-{uuid.uuid4().hex[:12]}@example.com"
        registered = httpx.post(
            f"{stack.gateway_url}/api/v1/auth/register",
            json={"email": email, "password": PASSWORD},
            timeout=30,
        )
        registered.raise_for_status()
        expected = operation_count(stack.gateway_url)
        try:
            swagger = check_swagger_ui(browser, stack.gateway_url, expected, email)
            redoc = check_redoc(browser, stack.gateway_url, expected)
        except DocsCheckError as error:
            sys.exit(f"docs check failed: {error}")
    print(
        f"docs check: {expected} operations in /openapi.json; Swagger UI rendered {swagger}, "
        f"ReDoc {redoc}; the Authorize dialog's password flow logged {email} in; "
        "no request left the gateway but ReDoc's footer logo"
    )


if __name__ == "__main__":
    main()
