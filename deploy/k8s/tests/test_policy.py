"""The rules every rendered overlay keeps: probes, limits, locked-down containers, drains
that fit the grace period, production's replicas, PDBs and HPAs, network isolation, and
no secret value in a manifest."""

import re
from collections.abc import Iterator
from typing import Any

import pytest

from flotilla.devstack.registry import discover

from .conftest import OVERLAYS, Manifest

SECRET_LOOKING = re.compile(r"PASSWORD|SECRET|SIGNING_KEY|TOKEN|DATABASE_URL|DSN", re.IGNORECASE)
PRODUCTION_LIKE = ["staging", "production"]

#: The services of the checkout (the registry, services/*/), and those with a database.
REGISTERED = discover()
SERVICES = sorted(service.name for service in REGISTERED)
WITH_DATABASE = sorted(service.name for service in REGISTERED if service.has_database)


def of_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def name(manifest: Manifest) -> str:
    value: str = manifest["metadata"]["name"]
    return value


def pod_specs(manifests: list[Manifest]) -> Iterator[tuple[str, dict[str, Any]]]:
    for manifest in manifests:
        if manifest["kind"] in ("Deployment", "Job"):
            yield f"{manifest['kind']} {name(manifest)}", manifest["spec"]["template"]["spec"]


def labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def config_value(manifests: list[Manifest], config_name: str, suffix: str) -> str:
    for config in of_kind(manifests, "ConfigMap"):
        if name(config).startswith(config_name):
            for key, value in config["data"].items():
                if key.endswith(suffix):
                    result: str = value
                    return result
    raise AssertionError(f"{config_name} has no *{suffix}")


@pytest.fixture(params=OVERLAYS)
def manifests(request: pytest.FixtureRequest, rendered: dict[str, list[Manifest]]) -> Any:
    return rendered[request.param]


def test_every_overlay_renders_a_deployment_per_service(manifests: list[Manifest]) -> None:
    assert sorted(name(d) for d in of_kind(manifests, "Deployment")) == SERVICES


def test_every_server_is_probed_ready_on_readyz_and_alive_on_healthz(
    manifests: list[Manifest],
) -> None:
    for deployment in of_kind(manifests, "Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_every_container_has_cpu_and_memory_requests_and_limits(
    manifests: list[Manifest],
) -> None:
    for where, spec in pod_specs(manifests):
        for container in spec["containers"]:
            resources = container["resources"]
            for bound in ("requests", "limits"):
                assert set(resources[bound]) >= {"cpu", "memory"}, f"{where}: {bound}"


def test_every_container_runs_locked_down(manifests: list[Manifest]) -> None:
    for where, spec in pod_specs(manifests):
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["automountServiceAccountToken"] is False, where
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where


def test_rollouts_never_lower_the_number_of_ready_pods(manifests: list[Manifest]) -> None:
    for deployment in of_kind(manifests, "Deployment"):
        strategy = deployment["spec"]["strategy"]
        assert strategy["type"] == "RollingUpdate"
        assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_the_prestop_drain_fits_in_the_grace_period(manifests: list[Manifest]) -> None:
    for deployment in of_kind(manifests, "Deployment"):
        spec = deployment["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        drain = float(config_value(manifests, f"{name(deployment)}-config", "_DRAIN_SECONDS"))
        assert container["lifecycle"]["preStop"]["exec"]["command"][-1] == "flotilla.shutdown"
        assert drain > 0
        # The drain, then up to the uvicorn's in-flight requests' time, then the exit.
        assert spec["terminationGracePeriodSeconds"] >= drain + 30


@pytest.mark.parametrize("overlay", PRODUCTION_LIKE)
def test_production_runs_every_service_on_two_pods_or_more(
    overlay: str, rendered: dict[str, list[Manifest]]
) -> None:
    manifests = rendered[overlay]
    autoscalers = {
        hpa["spec"]["scaleTargetRef"]["name"]: hpa
        for hpa in of_kind(manifests, "HorizontalPodAutoscaler")
    }
    for deployment in of_kind(manifests, "Deployment"):
        assert deployment["spec"]["replicas"] >= 2
        assert autoscalers[name(deployment)]["spec"]["minReplicas"] >= 2


@pytest.mark.parametrize("overlay", PRODUCTION_LIKE)
def test_production_has_a_disruption_budget_for_every_service(
    overlay: str, rendered: dict[str, list[Manifest]]
) -> None:
    manifests = rendered[overlay]
    budgets = of_kind(manifests, "PodDisruptionBudget")
    for deployment in of_kind(manifests, "Deployment"):
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [
            b for b in budgets if labels_match(b["spec"]["selector"]["matchLabels"], pod_labels)
        ]
        assert len(covering) == 1, name(deployment)
        assert covering[0]["spec"]["minAvailable"] >= 1


def test_nothing_reaches_a_pod_unless_a_policy_lets_it(manifests: list[Manifest]) -> None:
    default_deny = [
        p
        for p in of_kind(manifests, "NetworkPolicy")
        if p["spec"]["podSelector"] == {} and "ingress" not in p["spec"]
    ]
    assert default_deny
    assert default_deny[0]["spec"]["policyTypes"] == ["Ingress"]


def test_only_the_gateway_takes_traffic_from_outside(manifests: list[Manifest]) -> None:
    open_to_all = []
    for policy in of_kind(manifests, "NetworkPolicy"):
        for rule in policy["spec"].get("ingress", []):
            if not rule.get("from"):
                open_to_all.append(policy["spec"]["podSelector"]["matchLabels"])
            else:
                for peer in rule["from"]:
                    assert "namespaceSelector" not in peer
                    assert "ipBlock" not in peer
    assert open_to_all == [{"app.kubernetes.io/name": "gateway"}]
    assert [name(i) for i in of_kind(manifests, "Ingress")] == ["gateway"]
    (ingress,) = of_kind(manifests, "Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "gateway"


def test_only_the_services_with_a_database_reach_postgres(manifests: list[Manifest]) -> None:
    (policy,) = [
        p
        for p in of_kind(manifests, "NetworkPolicy")
        if p["spec"]["podSelector"].get("matchLabels") == {"app.kubernetes.io/name": "postgres"}
    ]
    (rule,) = policy["spec"]["ingress"]
    (peer,) = rule["from"]
    admitted = peer["podSelector"]["matchLabels"]
    reaching = sorted(
        name(d)
        for d in of_kind(manifests, "Deployment")
        if labels_match(admitted, d["spec"]["template"]["metadata"]["labels"])
    )
    assert reaching == WITH_DATABASE


def test_every_service_with_a_database_has_a_migration_job(manifests: list[Manifest]) -> None:
    jobs = {name(j): j for j in of_kind(manifests, "Job")}
    assert sorted(jobs) == [f"{service}-migrate" for service in WITH_DATABASE]
    for job_name, job in jobs.items():
        (container,) = job["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["alembic", "upgrade", "head"]
        assert container["image"] == f"flotilla/{job_name.removesuffix('-migrate')}"


def test_no_secret_value_is_in_a_manifest(manifests: list[Manifest]) -> None:
    assert of_kind(manifests, "Secret") == []
    for config in of_kind(manifests, "ConfigMap"):
        assert not [key for key in config["data"] if SECRET_LOOKING.search(key)], name(config)
    for where, spec in pod_specs(manifests):
        for container in spec["containers"]:
            for variable in container.get("env", []):
                assert not (SECRET_LOOKING.search(variable["name"]) and "value" in variable), where


def test_secret_settings_come_from_each_service_s_secret(manifests: list[Manifest]) -> None:
    for where, spec in pod_specs(manifests):
        (container,) = spec["containers"]
        secret_refs = [s["secretRef"]["name"] for s in container["envFrom"] if "secretRef" in s]
        service = container["image"].removeprefix("flotilla/")
        assert secret_refs == ([] if service == "gateway" else [f"{service}-secrets"]), where


def test_images_carry_no_tag_so_the_deploy_job_must_set_the_commit(
    manifests: list[Manifest],
) -> None:
    for where, spec in pod_specs(manifests):
        for container in spec["containers"]:
            assert ":" not in container["image"], where
