"""ci/pipeline/k8s-deploy.sh, the GitLab deploy jobs' script, run against a fake kubectl
that records its calls (ci/tests/fake_kubectl.py)."""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from flotilla.devstack.registry import discover

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "ci" / "pipeline" / "k8s-deploy.sh"
SHA = "0123456789abcdef0123456789abcdef01234567"
CONTEXT = "flotilla/agents:production"
REGISTRY_IMAGE = "registry.example.com/team/flotilla"
BASH = shutil.which("bash") or "/bin/bash"

#: The services of the checkout (the registry, services/*/), and those with a database.
REGISTERED = discover()
SERVICES = sorted(service.name for service in REGISTERED)
WITH_DATABASE = sorted(service.name for service in REGISTERED if service.has_database)


@dataclass
class Call:
    args: list[str]
    applied: str | None

    @property
    def command(self) -> list[str]:
        """The arguments without the context and namespace options."""
        skip = {"--context", "--namespace"}
        kept: list[str] = []
        arguments = iter(self.args)
        for argument in arguments:
            if argument in skip:
                next(arguments)
            else:
                kept.append(argument)
        return kept

    def option(self, name: str) -> str | None:
        return self.args[self.args.index(name) + 1] if name in self.args else None


@dataclass
class Run:
    returncode: int
    output: str
    calls: list[Call]

    def commands(self) -> list[list[str]]:
        return [call.command for call in self.calls]

    def applied_objects(self, index: int = -1) -> list[dict[str, Any]]:
        applies = [call for call in self.calls if "apply" in call.args]
        text = applies[index].applied or ""
        return [doc for doc in yaml.safe_load_all(text) if doc]


@pytest.fixture
def deploy(tmp_path: Path) -> Any:
    real_kubectl = shutil.which("kubectl")
    if real_kubectl is None:
        pytest.fail("kubectl is needed to render the overlays")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "kubectl"
    fake.write_text(
        f"#!{sys.executable}\n" + (Path(__file__).parent / "fake_kubectl.py").read_text()
    )
    fake.chmod(0o755)
    log = tmp_path / "kubectl.jsonl"

    def run(action: str, environment: str, url: str = "", **variables: str) -> Run:
        env = {
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "HOME": str(tmp_path),
            "REAL_KUBECTL": real_kubectl,
            "FAKE_KUBECTL_LOG": str(log),
            "KUBE_CONTEXT": CONTEXT,
            "CI_ENVIRONMENT_NAME": environment,
            "CI_ENVIRONMENT_SLUG": environment.replace("/", "-"),
            "CI_ENVIRONMENT_URL": url or f"https://{environment.replace('/', '-')}.example.com",
            "CI_REGISTRY_IMAGE": REGISTRY_IMAGE,
            "CI_COMMIT_SHA": SHA,
            **variables,
        }
        log.write_text("")
        result = subprocess.run(  # noqa: S603 (our own script)
            [BASH, str(SCRIPT), action], env=env, capture_output=True, text=True, check=False
        )
        calls = [Call(**json.loads(line)) for line in log.read_text().splitlines()]
        return Run(result.returncode, result.stdout + result.stderr, calls)

    return run


def test_up_talks_to_the_agent_s_context_in_the_environment_s_namespace(deploy: Any) -> None:
    run = deploy("up", "production")

    assert run.returncode == 0, run.output
    assert {call.option("--context") for call in run.calls} == {CONTEXT}
    creates_namespace, applies_it, *in_namespace = run.calls
    assert creates_namespace.command[:3] == ["create", "namespace", "flotilla-production"]
    assert applies_it.command == ["apply", "--filename=-"]
    assert {call.option("--namespace") for call in in_namespace} == {"flotilla-production"}


def test_up_migrates_first_waits_for_the_commit_s_jobs_then_rolls_out(deploy: Any) -> None:
    run = deploy("up", "production")

    assert run.commands() == [
        ["create", "namespace", "flotilla-production", "--dry-run=client", "--output=yaml"],
        ["apply", "--filename=-"],
        [
            "apply",
            run.calls[2].command[1],
            "--selector=app.kubernetes.io/component=migration",
        ],
        [
            "wait",
            "--for=condition=complete",
            "--timeout=600s",
            *(f"job/{service}-migrate-0123456789ab" for service in WITH_DATABASE),
        ],
        ["apply", run.calls[4].command[1]],
        *(["rollout", "status", f"deployment/{s}", "--timeout=300s"] for s in SERVICES),
    ]


def test_up_applies_the_commit_s_images_namespace_host_and_job_names(deploy: Any) -> None:
    run = deploy("up", "production", url="https://flotilla.example.com/")

    objects = run.applied_objects()
    images = sorted(
        container["image"]
        for obj in objects
        if obj["kind"] in ("Deployment", "Job")
        for container in obj["spec"]["template"]["spec"]["containers"]
    )
    # One per Deployment, one more per migration Job.
    assert images == sorted(
        [f"{REGISTRY_IMAGE}/{s}:{SHA}" for s in SERVICES]
        + [f"{REGISTRY_IMAGE}/{s}:{SHA}" for s in WITH_DATABASE]
    )
    assert {obj["metadata"]["namespace"] for obj in objects} == {"flotilla-production"}
    (ingress,) = [obj for obj in objects if obj["kind"] == "Ingress"]
    assert ingress["spec"]["rules"][0]["host"] == "flotilla.example.com"
    jobs = sorted(obj["metadata"]["name"] for obj in objects if obj["kind"] == "Job")
    assert jobs == [f"{service}-migrate-0123456789ab" for service in WITH_DATABASE]


def test_a_review_app_gets_its_own_namespace_and_the_review_overlay(deploy: Any) -> None:
    run = deploy("up", "review/add-tags")

    assert run.returncode == 0, run.output
    assert run.calls[0].command[2] == "flotilla-review-add-tags"
    kinds = {obj["kind"] for obj in run.applied_objects()}
    assert "HorizontalPodAutoscaler" not in kinds
    deployments = [obj for obj in run.applied_objects() if obj["kind"] == "Deployment"]
    assert {d["spec"]["replicas"] for d in deployments} == {1}


def test_secret_settings_go_from_a_file_variable_into_the_service_s_secret(
    deploy: Any, tmp_path: Path
) -> None:
    secrets = tmp_path / "users.env"
    secrets.write_text("USERS_DATABASE_URL=postgresql+psycopg://users:s3cret@db/users\n")

    run = deploy("up", "staging", USERS_SECRETS_ENV=str(secrets))

    created = [c.command for c in run.calls if c.command[:2] == ["create", "secret"]]
    assert created == [
        [
            "create",
            "secret",
            "generic",
            "users-secrets",
            f"--from-env-file={secrets}",
            "--dry-run=client",
            "--output=yaml",
        ]
    ]
    assert not any("s3cret" in " ".join(call.args) for call in run.calls)


def test_a_rollout_that_does_not_complete_fails_the_job(deploy: Any) -> None:
    run = deploy("up", "staging", FAKE_KUBECTL_FAIL="rollout status deployment/items")

    assert run.returncode != 0
    assert run.commands()[-1] == ["rollout", "status", "deployment/items", "--timeout=300s"]


def test_a_failed_migration_stops_before_the_new_pods_are_applied(deploy: Any) -> None:
    run = deploy("up", "staging", FAKE_KUBECTL_FAIL="wait")

    assert run.returncode != 0
    assert run.commands()[-1][0] == "wait"
    assert not any(call.command[:1] == ["rollout"] for call in run.calls)


def test_down_deletes_the_review_app_s_namespace(deploy: Any) -> None:
    run = deploy("down", "review/add-tags")

    assert run.returncode == 0, run.output
    assert run.commands() == [
        ["delete", "namespace", "flotilla-review-add-tags", "--ignore-not-found", "--wait=false"]
    ]


def test_rollback_undoes_every_rollout_and_waits_for_it(deploy: Any) -> None:
    run = deploy("rollback", "production")

    assert run.returncode == 0, run.output
    assert run.commands() == [
        *(["rollout", "undo", f"deployment/{service}"] for service in SERVICES),
        *(["rollout", "status", f"deployment/{s}", "--timeout=300s"] for s in SERVICES),
    ]
