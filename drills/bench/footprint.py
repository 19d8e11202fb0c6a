"""Memory and image size: RSS of each service process, sizes of the built images."""

import shutil
import subprocess

from drills.bench.harness import Service

FORMAT = "{{.Repository}}:{{.Tag}} {{.Size}} {{.CreatedSince}}"


def rss(services: list[Service]) -> dict[str, float]:
    """Service name -> resident set size in MiB, now."""
    return {service.name: service.rss_mib() for service in services if service.popen.poll() is None}


def image_sizes(services: list[str]) -> dict[str, str] | None:
    """``flotilla/<service>:latest`` -> size as Docker reports it; ``None`` without an engine."""
    docker = shutil.which("docker")
    if docker is None:
        return None
    try:
        completed = subprocess.run(  # noqa: S603 (fixed argv)
            [docker, "image", "ls", "--format", FORMAT, "flotilla/*"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (subprocess.SubprocessError, OSError):
        return None
    sizes = {}
    for line in completed.stdout.splitlines():
        name, _, rest = line.partition(" ")
        size, _, created = rest.partition(" ")
        repository, _, tag = name.partition(":")
        service = repository.removeprefix("flotilla/")
        if tag == "latest" and service in services:
            sizes[service] = f"{size} (built {created})"
    return sizes
