"""Serve one service with uvicorn, the same way in its image, the dev stack and the bench.

    python -m flotilla.serve items --port 8002

One place for the server's options: every process of the stack is started here.
The service defaults to ``FLOTILLA_SERVICE`` (set in its image).

``X-Forwarded-*`` headers are not trusted by default: only a proxy in front
of the process may set them, and the stack has none in front of the gateway.
Behind one (an ingress), ``--proxy-headers`` trusts the addresses in uvicorn's
``FORWARDED_ALLOW_IPS``.
"""

import argparse
import os

import uvicorn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flotilla.serve", description=__doc__)
    parser.add_argument(
        "service",
        nargs="?",
        default=os.environ.get("FLOTILLA_SERVICE"),
        help="the service's name, e.g. items or order-lines (default: $FLOTILLA_SERVICE)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-*")
    args = parser.parse_args(argv)
    if not args.service:
        parser.error("name the service (or set FLOTILLA_SERVICE)")
    uvicorn.run(
        f"{args.service.replace('-', '_')}.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        # The app logs every request itself, with its request id (flotilla.logging).
        access_log=False,
        proxy_headers=args.proxy_headers,
    )


if __name__ == "__main__":
    main()
