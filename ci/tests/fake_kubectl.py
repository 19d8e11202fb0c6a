"""A stand-in ``kubectl`` for the deploy job's tests: records every call, changes nothing.

Each call is one JSON line in ``$FAKE_KUBECTL_LOG``: its arguments and, for
``apply``, the manifests it was given. ``kubectl kustomize`` runs the real
kubectl (``$REAL_KUBECTL``), which renders offline. A call whose arguments
contain ``$FAKE_KUBECTL_FAIL`` exits 1, like a rollout that did not complete.
"""

import json
import os
import subprocess
import sys


def main(arguments: list[str]) -> int:
    if arguments[:1] == ["kustomize"]:
        real = [os.environ["REAL_KUBECTL"], *arguments]
        return subprocess.run(real, check=False).returncode  # noqa: S603 (the test's kubectl)
    applied = None
    if "apply" in arguments:
        source = next(
            a.removeprefix("--filename=") for a in arguments if a.startswith("--filename=")
        )
        if source == "-":
            applied = sys.stdin.read()
        else:
            with open(source) as manifests:
                applied = manifests.read()
    with open(os.environ["FAKE_KUBECTL_LOG"], "a") as log:
        log.write(json.dumps({"args": arguments, "applied": applied}) + "\n")
    failing = os.environ.get("FAKE_KUBECTL_FAIL")
    return 1 if failing and failing in " ".join(arguments) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
