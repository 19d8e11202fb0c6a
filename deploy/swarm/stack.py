"""The Swarm stack file, converted from the compose file's resolved form.

``docker compose config --format json`` resolves what ``docker stack deploy``
does not understand (``include:``, anchors, variables). From there, the
conversion below makes the stack, so the compose file stays the only place
where a service is defined:

- ``name:``, ``x-*`` fields, ``build``, ``pull_policy`` and ``depends_on`` go
  (Swarm starts everything at once; ``nox -s swarm -- up`` waits for the
  migrations and for every replica's health check instead);
- a service that others wait for with ``service_completed_successfully`` is a
  one-shot migration: a ``replicated-job``, run once per deploy;
- every other service gets ``endpoint_mode: dnsrr`` (its name resolves to
  every task: no virtual IP, which needs IPVS); the stateless ones, given in
  ``replicas``, run that many tasks and roll by starting the new task first,
  the rest (Postgres) run one task and stop it before starting the next;
- keys and environment variables without a value are left out;
- published ports are published in ``mode: host`` on all addresses (the
  routing mesh needs IPVS; host mode cannot bind one address);
- networks become overlay networks, and networks and volumes lose the
  compose project's ``name:``, so the stack's own prefix names them.
"""

from collections.abc import Mapping
from typing import Any

Compose = dict[str, Any]

DROPPED_SERVICE_KEYS = frozenset({"build", "pull_policy", "depends_on", "container_name"})
START_FIRST = {"parallelism": 1, "order": "start-first", "failure_action": "rollback"}
STOP_FIRST = {"parallelism": 1, "order": "stop-first"}
JOB_RESTART = {"condition": "on-failure", "delay": "3s", "max_attempts": 20}


def one_shot_services(services: Mapping[str, Compose]) -> set[str]:
    """Services another one waits for until they have exited successfully."""
    return {
        dependency
        for service in services.values()
        for dependency, condition in (service.get("depends_on") or {}).items()
        if condition.get("condition") == "service_completed_successfully"
    }


def host_mode_ports(ports: list[Compose]) -> list[Compose]:
    return [
        {"target": port["target"], "published": int(port["published"]), "mode": "host"}
        for port in ports
    ]


def convert_service(service: Compose, *, one_shot: bool, replicas: int | None) -> Compose:
    """``replicas`` is None for a stateful service: one task, replaced stop-first."""
    converted = {
        key: value
        for key, value in service.items()
        if key not in DROPPED_SERVICE_KEYS and not key.startswith("x-") and value is not None
    }
    if "environment" in service:
        converted["environment"] = {
            name: value for name, value in service["environment"].items() if value is not None
        }
    if one_shot:
        converted["deploy"] = {"mode": "replicated-job", "restart_policy": JOB_RESTART}
    else:
        converted["deploy"] = {
            "mode": "replicated",
            "replicas": replicas or 1,
            "endpoint_mode": "dnsrr",
            "update_config": STOP_FIRST if replicas is None else START_FIRST,
            "restart_policy": {"condition": "any", "delay": "2s"},
        }
    if "ports" in service:
        converted["ports"] = host_mode_ports(service["ports"])
    return converted


def stack_from_compose(config: Compose, *, replicas: Mapping[str, int]) -> Compose:
    """The stack file for ``docker stack deploy``, from ``docker compose config`` output.

    ``replicas`` names the stateless services and how many tasks each runs.
    """
    services = config["services"]
    unknown = set(replicas) - set(services)
    if unknown:
        raise ValueError(f"replicas for services the compose file lacks: {sorted(unknown)}")
    jobs = one_shot_services(services)
    return {
        "services": {
            name: convert_service(service, one_shot=name in jobs, replicas=replicas.get(name))
            for name, service in services.items()
        },
        "networks": {
            name: {"driver": "overlay", "attachable": True}
            for name in config.get("networks") or {"default": {}}
        },
        "volumes": {
            name: {key: value for key, value in volume.items() if key != "name"}
            for name, volume in (config.get("volumes") or {}).items()
        },
    }
