"""The compose-to-stack conversion, on the shape ``docker compose config`` prints."""

from typing import Any

import pytest

from deploy.swarm.stack import stack_from_compose


def compose_config() -> dict[str, Any]:
    python_service = {
        "image": "flotilla/items:abc",
        "init": True,
        "command": None,
        "pull_policy": "never",
        "build": {"context": "/repo", "args": {"SERVICE": "items"}},
        "environment": {"ITEMS_DRAIN_SECONDS": "5", "FIRST_ADMIN_EMAIL": None},
        "healthcheck": {"test": ["CMD", "true"], "interval": "3s"},
        "stop_grace_period": "30s",
        "networks": {"default": None},
    }
    return {
        "name": "flotilla",
        "x-python-service": {"init": True},
        "services": {
            "postgres": {
                "image": "postgres:17",
                "volumes": [{"type": "volume", "source": "postgres-data", "target": "/data"}],
            },
            "items-migrate": {
                "image": "flotilla/items:abc",
                "command": ["alembic", "upgrade", "head"],
                "depends_on": {"postgres": {"condition": "service_healthy", "required": True}},
            },
            "items": {
                **python_service,
                "depends_on": {
                    "postgres": {"condition": "service_healthy", "required": True},
                    "items-migrate": {
                        "condition": "service_completed_successfully",
                        "required": True,
                    },
                },
            },
            "gateway": {
                **python_service,
                "image": "flotilla/gateway:abc",
                "ports": [
                    {
                        "mode": "ingress",
                        "host_ip": "127.0.0.1",
                        "target": 8000,
                        "published": "8123",
                        "protocol": "tcp",
                    }
                ],
            },
        },
        "networks": {"default": {"name": "flotilla_default", "ipam": {}}},
        "volumes": {"postgres-data": {"name": "flotilla_postgres-data"}},
    }


@pytest.fixture
def stack() -> dict[str, Any]:
    return stack_from_compose(compose_config(), replicas={"items": 2, "gateway": 1})


def test_only_services_networks_and_volumes_are_kept(stack: dict[str, Any]) -> None:
    assert sorted(stack) == ["networks", "services", "volumes"]


def test_a_service_others_wait_to_complete_runs_once_as_a_job(stack: dict[str, Any]) -> None:
    assert stack["services"]["items-migrate"]["deploy"]["mode"] == "replicated-job"


def test_stateless_services_run_their_replicas_behind_dns_round_robin(
    stack: dict[str, Any],
) -> None:
    deploy = stack["services"]["items"]["deploy"]

    assert deploy["replicas"] == 2
    assert deploy["endpoint_mode"] == "dnsrr"
    assert deploy["update_config"]["order"] == "start-first"


def test_a_stateful_service_runs_one_task_replaced_stop_first(stack: dict[str, Any]) -> None:
    deploy = stack["services"]["postgres"]["deploy"]

    assert deploy["replicas"] == 1
    assert deploy["update_config"]["order"] == "stop-first"


def test_what_swarm_does_not_understand_is_left_out(stack: dict[str, Any]) -> None:
    items = stack["services"]["items"]

    assert not {"build", "pull_policy", "depends_on", "command"} & set(items)
    assert items["environment"] == {"ITEMS_DRAIN_SECONDS": "5"}


def test_drain_settings_pass_through(stack: dict[str, Any]) -> None:
    items = stack["services"]["items"]

    assert items["stop_grace_period"] == "30s"
    assert items["healthcheck"] == {"test": ["CMD", "true"], "interval": "3s"}


def test_published_ports_are_host_mode_on_every_address(stack: dict[str, Any]) -> None:
    assert stack["services"]["gateway"]["ports"] == [
        {"target": 8000, "published": 8123, "mode": "host"}
    ]


def test_networks_are_overlays_and_names_come_from_the_stack(stack: dict[str, Any]) -> None:
    assert stack["networks"] == {"default": {"driver": "overlay", "attachable": True}}
    assert stack["volumes"] == {"postgres-data": {}}


def test_replicas_for_a_service_the_compose_file_lacks_are_refused() -> None:
    with pytest.raises(ValueError, match="lacks"):
        stack_from_compose(compose_config(), replicas={"billing": 2})
