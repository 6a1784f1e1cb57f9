"""``deploy/compose.yaml``, the Dockerfiles and the Rasa entrypoint, checked without a runtime.

There is no container runtime on these machines (``docker compose config`` is not available),
so the file is parsed with PyYAML and interpolated the way compose does (``${VAR}``,
``${VAR:-default}``, ``${VAR:?message}``, ``$$``), then checked: pinned images, health checks
on every long-running service, resource limits, ``depends_on`` with conditions, no secret in
the file, every variable the app and Rasa read in production provided, and a valid production
configuration once the ``.env`` placeholders are replaced.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import ValidationError

from core.config import PROJECT_ROOT, Settings
from tests.integration.deploy.conftest import (
    APP_PRODUCTION_VARIABLES,
    DEPLOY,
    image_problem,
    is_secret_name,
    rasa_variables,
)

COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


class MissingVariable(Exception):
    """A ``${VAR:?message}`` whose variable is unset."""


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Substitute variables in every string of ``value`` the way docker compose does."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.group(1), match.group(2), match.group(3) or ""
        current = env.get(name)
        unset = current is None or (
            operator is not None and operator.startswith(":") and not current
        )
        if operator in (":?", "?") and unset:
            raise MissingVariable(argument or name)
        if operator in (":-", "-") and unset:
            return argument
        return current or ""

    return _VARIABLE.sub(substitute, value)


def raw_compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def env_example() -> dict[str, str]:
    pairs = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def real_env() -> dict[str, str]:
    """The example .env with every placeholder replaced by a usable value."""
    return {
        key: (f"real-{key.lower().replace('_', '-')}-0123456789" if value == "changeme" else value)
        for key, value in env_example().items()
    }


def _environment(service: Mapping[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {str(key): str(value) for key, value in environment.items()}


def compose_problems(data: Mapping[str, Any]) -> list[str]:
    """Every rule the (raw, not interpolated) compose file breaks, one line each."""
    problems: list[str] = []
    services: Mapping[str, Any] = data.get("services") or {}
    one_shot = {name for name, s in services.items() if s.get("restart") == "no"}
    declared_volumes = set((data.get("volumes") or {}).keys())
    for name, service in services.items():
        problem = image_problem(service.get("image"))
        if problem:
            problems.append(f"{name}: {problem}")
        limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        if not (limits.get("cpus") and limits.get("memory")):
            problems.append(f"{name}: no cpu and memory limits")
        if name not in one_shot:
            test = (service.get("healthcheck") or {}).get("test")
            if not test or test == ["NONE"]:
                problems.append(f"{name}: no healthcheck")
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            problems.append(f"{name}: depends_on without conditions")
            depends = {}
        for other, how in depends.items():
            wanted = "service_completed_successfully" if other in one_shot else "service_healthy"
            if (how or {}).get("condition") != wanted:
                problems.append(f"{name}: depends_on {other} must wait for {wanted}")
            if other not in services:
                problems.append(f"{name}: depends_on an unknown service {other}")
        for key, value in _environment(service).items():
            if is_secret_name(key) and not re.fullmatch(r"\$\{[A-Z0-9_]+(:[?-][^}]*)?\}", value):
                problems.append(f"{name}: {key} is not taken from the .env file")
            if re.search(r"://[^/@\s]*:[^$/@\s][^/@\s]*@", value):
                problems.append(f"{name}: {key} is a URL with a password in the file")
        for volume in service.get("volumes") or []:
            source = str(volume).split(":", 1)[0]
            if not source.startswith((".", "/")) and source not in declared_volumes:
                problems.append(f"{name}: volume {source} is not declared")
            if source.startswith(".") and not (DEPLOY / source).exists():
                problems.append(f"{name}: {source} does not exist")
    return problems


def test_compose_follows_the_rules() -> None:
    assert compose_problems(raw_compose()) == []


def test_the_rules_catch_a_broken_compose_file() -> None:
    broken = raw_compose()
    gateway = broken["services"]["gateway"]
    del gateway["healthcheck"]
    gateway["image"] = "concierge-app"
    gateway["environment"] = {"CONCIERGE_REST_API_KEY": "k-123"}
    broken["services"]["worker"]["depends_on"] = {"migrate": {"condition": "service_started"}}
    del broken["services"]["redis"]["deploy"]
    problems = compose_problems(broken)
    assert "gateway: no healthcheck" in problems
    assert "gateway: concierge-app: no tag" in problems
    assert "gateway: CONCIERGE_REST_API_KEY is not taken from the .env file" in problems
    assert "worker: depends_on migrate must wait for service_completed_successfully" in problems
    assert "redis: no cpu and memory limits" in problems


def test_the_services_and_their_health_checks() -> None:
    services = raw_compose()["services"]
    assert set(services) == {
        "postgres", "redis", "rabbitmq", "chroma", "migrate", "ingest",
        "rasa", "actions", "gateway", "worker",
    }  # fmt: skip
    health = {
        name: " ".join(s["healthcheck"]["test"])
        for name, s in services.items()
        if "healthcheck" in s
    }
    assert "pg_isready" in health["postgres"]
    assert "redis-cli ping" in health["redis"]
    assert "rabbitmq-diagnostics -q ping" in health["rabbitmq"]
    assert "/api/v2/heartbeat" in health["chroma"]
    assert "127.0.0.1:5005/'" in health["rasa"]
    assert "127.0.0.1:5055/health'" in health["actions"]
    assert "127.0.0.1:8000/healthz'" in health["gateway"]
    assert "127.0.0.1:8001/health'" in health["worker"]
    assert "concierge db upgrade" in " ".join(services["migrate"]["command"])
    assert "concierge check-services --production" in " ".join(services["migrate"]["command"])
    assert "--endpoints" not in str(services["rasa"].get("command", ""))  # the image's entrypoint


def test_missing_secrets_are_named_before_anything_starts() -> None:
    required = {key for key, value in env_example().items() if value == "changeme"}
    assert required
    for key in required:
        env = real_env()
        del env[key]
        with pytest.raises(MissingVariable, match=key):
            interpolate(raw_compose(), env)


def test_every_variable_the_app_and_rasa_read_is_provided(clean_env: pytest.MonkeyPatch) -> None:
    env = real_env()
    data = interpolate(raw_compose(), env)
    services = data["services"]
    app = {name for name, s in services.items() if s.get("image", "").startswith("concierge-app:")}
    assert app == {"migrate", "ingest", "actions", "gateway", "worker"}
    for name in sorted(app):
        service = services[name]
        assert service.get("env_file") == [".env"]
        environment = _environment(service)
        assert environment.keys() >= APP_PRODUCTION_VARIABLES, (
            name,
            APP_PRODUCTION_VARIABLES - environment.keys(),
        )
        for key, value in {**env, **environment}.items():  # env_file, then `environment:`
            clean_env.setenv(key, value)
        settings = Settings()
        assert settings.environment == "production"
        for url in (settings.database_url, settings.redis_url, settings.rabbitmq_url):
            parts = urlsplit(url or "")
            assert parts.hostname in services and (parts.password or "").startswith("real-")
        assert settings.chroma_host in services
        assert urlsplit(settings.rasa_url).hostname in services
        assert urlsplit(settings.action_server_url).hostname in services
        for key in {**env, **environment}:
            clean_env.delenv(key)
    assert _environment(services["actions"])["SANIC_HOST"] == "0.0.0.0"
    worker_queue = _environment(services["worker"])["CONCIERGE_EVENT_BROKER_QUEUE"]

    rasa = _environment(services["rasa"])
    assert rasa_variables() <= rasa.keys()
    for what in ("TRACKER_DB", "LOCK_STORE", "EVENT_BROKER"):
        assert rasa[f"CONCIERGE_{what}_HOST"] in services
    assert urlsplit(rasa["CONCIERGE_ACTION_ENDPOINT"]).hostname == "actions"
    assert rasa["CONCIERGE_EVENT_BROKER_QUEUE"] == worker_queue  # the feed reads what Rasa writes
    sql = (DEPLOY / "k8s" / "create-tracker-database.sql").read_text(encoding="utf-8")
    assert (
        f"CREATE DATABASE {rasa['CONCIERGE_TRACKER_DB']} OWNER {rasa['CONCIERGE_TRACKER_DB_USER']}"
        in sql
    )


def test_an_unedited_env_file_does_not_start(clean_env: pytest.MonkeyPatch) -> None:
    services = interpolate(raw_compose(), env_example())["services"]
    for key, value in {**env_example(), **_environment(services["gateway"])}.items():
        clean_env.setenv(key, value)
    with pytest.raises(ValidationError, match="CONCIERGE_RASA_AUTH_TOKEN must be set"):
        Settings()


def test_the_rasa_entrypoint_checks_exactly_the_endpoints_variables() -> None:
    script = (DEPLOY / "rasa" / "entrypoint.sh").read_text(encoding="utf-8")
    loop = re.search(r"for name in (.*?); do", script, re.S)
    assert loop is not None
    checked = set(loop.group(1).replace("\\", " ").split())
    assert checked == rasa_variables()
    assert '--endpoints "${CONCIERGE_RASA_ENDPOINTS:-/app/endpoints.production.yml}"' in script


def test_the_rasa_entrypoint_names_missing_variables_before_rasa_starts() -> None:
    env = {"PATH": "/usr/bin:/bin", **{name: "x" for name in rasa_variables()}}
    del env["CONCIERGE_LOCK_STORE_HOST"], env["CONCIERGE_RASA_AUTH_TOKEN"]
    env["CONCIERGE_TRACKER_DB_PASSWORD"] = ""  # set but empty is allowed (trust auth)
    done = subprocess.run(
        ["sh", str(DEPLOY / "rasa" / "entrypoint.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: Rasa needs these environment variables: CONCIERGE_RASA_AUTH_TOKEN "
        "CONCIERGE_LOCK_STORE_HOST (see docs/production.md)"
    )


def _from_lines(dockerfile: Path) -> list[str]:
    text = dockerfile.read_text(encoding="utf-8")
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.M))
    images = []
    for image in re.findall(r"^FROM (\S+)", text, re.M):
        images.append(re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image))
    return images


@pytest.mark.parametrize("name", ["Dockerfile.app", "Dockerfile.rasa"])
def test_dockerfiles_pin_their_bases_run_unprivileged_and_copy_what_exists(name: str) -> None:
    dockerfile = DEPLOY / name
    text = dockerfile.read_text(encoding="utf-8")
    for image in _from_lines(dockerfile):
        assert image_problem(image) is None, image
    final_stage = text.rsplit("\nFROM ", 1)[-1]
    users = re.findall(r"^USER (\S+)", final_stage, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M):
        sources = [part for part in line.split() if not part.startswith("--")][:-1]
        for source in sources:
            if "$" not in source:
                assert (PROJECT_ROOT / source).exists(), f"{name}: COPY {source} does not exist"
    assert (DEPLOY / f"{name}.dockerignore").exists()


def test_images_install_the_locks_the_way_the_makefile_does() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    app = (DEPLOY / "Dockerfile.app").read_text(encoding="utf-8")
    rasa = (DEPLOY / "Dockerfile.rasa").read_text(encoding="utf-8")
    assert "-c requirements/constraints.txt torch==2.13.0" in makefile
    assert "-c requirements/constraints.txt torch==2.13.0" in app
    assert (
        "--no-deps -r requirements/app.lock" in makefile
        and "--no-deps -r requirements/app.lock" in app
    )
    assert "--no-deps --no-build-isolation -e ." in app
    rasa_flags = "--no-deps --ignore-requires-python --prefer-binary"
    assert rasa_flags in makefile and rasa_flags in rasa
    assert "-r requirements/rasa.lock" in rasa
    assert "rasa train" in rasa and "knowledge.training_data" in rasa  # model trained at build
