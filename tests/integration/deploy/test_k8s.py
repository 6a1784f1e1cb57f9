"""The Kubernetes manifests as ``kubectl kustomize deploy/k8s`` renders them.

Every container (init containers too) has resource requests and limits and a pinned image;
every container of a long-running workload has readiness and liveness probes (a Job runs to
completion, so it has none); no secret sits in a ConfigMap or a plain ``value:``; the HPAs
scale the gateway and the action server; the settings the pods get make a valid production
configuration pointing at the Services the manifests define.
"""

from __future__ import annotations

import base64
import copy
import re
import shutil
import subprocess
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from core.config import Settings
from core.services import PRODUCTION_VARIABLES
from tests.integration.deploy.conftest import (
    APP_PRODUCTION_VARIABLES,
    DEPLOY,
    image_problem,
    is_secret_name,
    rasa_variables,
)

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}
LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet"}


def render() -> list[dict[str, Any]]:
    """Run ``kubectl kustomize deploy/k8s`` and parse the objects."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is required to render deploy/k8s (it is on the CI machines)")
    done = subprocess.run(
        [kubectl, "kustomize", str(DEPLOY / "k8s")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return render()


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod: dict[str, Any] = spec["template"]["spec"]
    return pod


def _containers(obj: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    pod = _pod_spec(obj)
    return [("init", c) for c in pod.get("initContainers", [])] + [
        ("main", c) for c in pod.get("containers", [])
    ]


def _deployment(objects: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == name)


def manifest_problems(objects: list[dict[str, Any]]) -> list[str]:
    """Every rule broken by the rendered objects, one line each."""
    problems: list[str] = []
    for obj in objects:
        kind, name = obj["kind"], obj["metadata"]["name"]
        if kind == "ConfigMap":
            for key, value in (obj.get("data") or {}).items():
                if is_secret_name(key):
                    problems.append(f"ConfigMap {name}: {key} is a secret in plain text")
                if re.search(r"://[^/@\s]*:[^/@\s]+@", str(value)):
                    problems.append(f"ConfigMap {name}: {key} is a URL with a password")
        if kind not in WORKLOADS:
            continue
        for role, container in _containers(obj):
            where = f"{kind} {name} container {container.get('name')}"
            problem = image_problem(container.get("image"))
            if problem:
                problems.append(f"{where}: {problem}")
            resources = container.get("resources") or {}
            for part in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if not (resources.get(part) or {}).get(resource):
                        problems.append(f"{where}: no {resource} {part[:-1]}")
            if kind in LONG_RUNNING and role == "main":
                for probe in ("readinessProbe", "livenessProbe"):
                    if not container.get(probe):
                        problems.append(f"{where}: no {probe}")
            for entry in container.get("env") or []:
                if "value" in entry and is_secret_name(entry["name"]):
                    problems.append(f"{where}: {entry['name']} has a plain value")
                if "value" in entry and re.search(r"://[^/@\s]*:[^$/@\s][^/@\s]*@", entry["value"]):
                    problems.append(f"{where}: {entry['name']} is a URL with a plain password")
    return problems


def test_every_container_follows_the_rules(objects: list[dict[str, Any]]) -> None:
    assert manifest_problems(objects) == []


def test_the_rules_catch_a_broken_manifest(objects: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(objects)
    gateway = next(
        o for o in broken if o["kind"] == "Deployment" and o["metadata"]["name"] == "gateway"
    )
    container = gateway["spec"]["template"]["spec"]["containers"][0]
    del container["livenessProbe"]
    del container["resources"]["limits"]
    container["image"] = "concierge-app:latest"
    container["env"].append({"name": "CONCIERGE_REST_API_KEY", "value": "k-123"})
    job = next(o for o in broken if o["kind"] == "Job")
    job["spec"]["template"]["spec"]["initContainers"] = [{"name": "wait", "image": "busybox"}]
    problems = manifest_problems(broken)
    assert "Deployment gateway container gateway: no livenessProbe" in problems
    assert "Deployment gateway container gateway: no cpu limit" in problems
    assert any("concierge-app:latest" in p for p in problems)
    assert (
        "Deployment gateway container gateway: CONCIERGE_REST_API_KEY has a plain value" in problems
    )
    assert "Job concierge-migrate container wait: busybox: no tag" in problems
    assert "Job concierge-migrate container wait: no memory request" in problems


def test_the_expected_objects_exist(objects: list[dict[str, Any]]) -> None:
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for name in ("rasa", "actions", "gateway", "worker", "chroma"):
        assert ("Deployment", name) in kinds
        if name != "worker":
            assert ("Service", name) in kinds
    for name in ("postgres", "redis", "rabbitmq"):
        assert ("StatefulSet", name) in kinds and ("Service", name) in kinds
    assert ("Namespace", "concierge") in kinds
    assert all(
        o["metadata"].get("namespace") == "concierge" for o in objects if o["kind"] != "Namespace"
    )
    hpas = {
        o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "HorizontalPodAutoscaler"
    }
    assert set(hpas) == {"gateway", "actions"}
    for name, spec in hpas.items():
        target = spec["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert spec["minReplicas"] >= 2 and spec["maxReplicas"] > spec["minReplicas"]
    job = next(o for o in objects if o["kind"] == "Job")
    command = " ".join(_pod_spec(job)["containers"][0]["command"])
    assert "concierge check-services --production" in command
    assert "concierge db upgrade" in command


def test_services_select_pods_and_probes_use_declared_ports(objects: list[dict[str, Any]]) -> None:
    workloads = [o for o in objects if o["kind"] in WORKLOADS]
    for service in (o for o in objects if o["kind"] == "Service"):
        selector = service["spec"]["selector"]
        matches = [
            w
            for w in workloads
            if w["kind"] != "Job"
            and selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert matches, f"Service {service['metadata']['name']} selects no pod"
        ports = {
            (p.get("name"), p["containerPort"])
            for w in matches
            for _, c in _containers(w)
            for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in {number for _, number in ports}
    for workload in workloads:
        for _, container in _containers(workload):
            names = {p.get("name") for p in container.get("ports", [])}
            numbers = {p["containerPort"] for p in container.get("ports", [])}
            for probe in ("readinessProbe", "livenessProbe"):
                http = (container.get(probe) or {}).get("httpGet")
                if http:
                    assert http["port"] in names | numbers, (workload["metadata"]["name"], probe)


def _environment(objects: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, str]:
    """What the container's environment would be, secrets taken from the rendered Secret."""
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        config = by_name[("ConfigMap", source["configMapRef"]["name"])]
        env.update(config["data"])
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = re.sub(
                r"\$\(([A-Za-z0-9_]+)\)", lambda m: env[m.group(1)], entry["value"]
            )
        elif "configMapKeyRef" in entry["valueFrom"]:
            ref = entry["valueFrom"]["configMapKeyRef"]
            env[entry["name"]] = by_name[("ConfigMap", ref["name"])]["data"][ref["key"]]
        else:
            ref = entry["valueFrom"]["secretKeyRef"]
            secret = by_name[("Secret", ref["name"])]
            env[entry["name"]] = base64.b64decode(secret["data"][ref["key"]]).decode()
    return env


def test_app_pods_get_a_valid_production_configuration(
    objects: list[dict[str, Any]], clean_env: pytest.MonkeyPatch
) -> None:
    services = {o["metadata"]["name"] for o in objects if o["kind"] == "Service"}
    # The committed file holds placeholders; a real deployment replaces them.
    for secret in (o for o in objects if o["kind"] == "Secret"):
        assert {base64.b64decode(v).decode() for v in secret["data"].values()} == {"changeme"}
        secret["data"] = {
            key: base64.b64encode(f"real-{key.lower()}-0123456789".encode()).decode()
            for key in secret["data"]
        }
    app = [
        (o["metadata"]["name"], c)
        for o in objects
        if o["kind"] in WORKLOADS
        for _, c in _containers(o)
        if c["image"].startswith("concierge-app:")
    ]
    assert {name for name, _ in app} == {"actions", "gateway", "worker", "concierge-migrate"}
    for name, container in app:
        env = _environment(objects, container)
        assert env.keys() >= APP_PRODUCTION_VARIABLES, (name, APP_PRODUCTION_VARIABLES - env.keys())
        for key, value in env.items():
            clean_env.setenv(key, value)
        settings = Settings()
        assert settings.environment == "production"
        assert settings.conversation_token_secret is not None
        for url in (settings.database_url, settings.redis_url, settings.rabbitmq_url):
            assert url and urlsplit(url).hostname in services, (name, urlsplit(url or "").hostname)
            assert (urlsplit(url).password or "").startswith("real-")
        assert settings.chroma_host in services
        for url in (settings.rasa_url, settings.action_server_url):
            assert urlsplit(url).hostname in services
        for variable in PRODUCTION_VARIABLES.values():
            assert env.get(variable)
        for key in list(env):
            clean_env.delenv(key)


def test_rasa_gets_every_variable_of_its_endpoints_file(objects: list[dict[str, Any]]) -> None:
    rasa = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "rasa")
    container = _pod_spec(rasa)["containers"][0]
    env = _environment(objects, container)
    assert rasa_variables() <= env.keys()
    services = {o["metadata"]["name"] for o in objects if o["kind"] == "Service"}
    for key in (
        "CONCIERGE_TRACKER_DB_HOST",
        "CONCIERGE_LOCK_STORE_HOST",
        "CONCIERGE_EVENT_BROKER_HOST",
    ):
        assert env[key] in services
    assert urlsplit(env["CONCIERGE_ACTION_ENDPOINT"]).hostname in services
    worker = _environment(objects, _pod_spec(_deployment(objects, "worker"))["containers"][0])
    assert worker["CONCIERGE_EVENT_BROKER_QUEUE"] == env["CONCIERGE_EVENT_BROKER_QUEUE"]
    init_sql = next(o for o in objects if o["metadata"]["name"].startswith("postgres-init"))
    assert f"CREATE DATABASE {env['CONCIERGE_TRACKER_DB']} " in next(
        iter(init_sql["data"].values())
    )
