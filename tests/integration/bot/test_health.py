"""``GET /healthz`` and the connectors' health routes."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import create_engine

from bot.deps import get_db_engine
from tests.integration.bot.conftest import ClientFactory, FakeRasa


def test_everything_down_is_503_naming_each_check(
    make_client: ClientFactory, closed_url: str, tmp_path: Path
) -> None:
    client = make_client(rasa_url=closed_url, action_server_url=closed_url)
    broken = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'nested' / 'db.sqlite'}")
    client.app.dependency_overrides[get_db_engine] = lambda: broken  # type: ignore[attr-defined]
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    data = response.json()
    assert data["status"] == "degraded"
    assert set(data["checks"]) == {"rasa", "action_server", "database"}
    for name, check in data["checks"].items():
        assert check["ok"] is False, name
        assert check["detail"], name
    assert closed_url in data["checks"]["rasa"]["detail"]
    assert "OperationalError" in data["checks"]["database"]["detail"]


def test_all_up_is_200(make_client: ClientFactory, fake_rasa: FakeRasa) -> None:
    client = make_client(rasa=fake_rasa, action_server_url=fake_rasa.url)
    response = client.get("/healthz")
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["status"] == "ok"
    assert data["checks"]["rasa"] == {"ok": True, "detail": "model loaded: models/concierge.tar.gz"}
    assert data["checks"]["action_server"] == {"ok": True, "detail": "ok"}
    assert data["checks"]["database"] == {"ok": True, "detail": "ok (sqlite)"}


def test_rasa_without_model_is_degraded(
    make_client: ClientFactory, fake_rasa: FakeRasa, closed_url: str
) -> None:
    fake_rasa.status = {"model_file": None, "num_active_training_jobs": 0}
    client = make_client(rasa=fake_rasa, action_server_url=fake_rasa.url)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["rasa"] == {
        "ok": False,
        "detail": "Rasa is up but no model is loaded",
    }
    assert response.json()["checks"]["action_server"]["ok"] is True


def test_hanging_services_are_reported_within_the_check_timeout(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    fake_rasa.mode = "hang"
    client = make_client(rasa=fake_rasa, action_server_url=fake_rasa.url)
    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert elapsed < 4, "checks must run concurrently with short timeouts"
    checks = response.json()["checks"]
    assert "timed out" in checks["rasa"]["detail"]
    assert "timed out" in checks["action_server"]["detail"]
    assert checks["database"]["ok"] is True


def test_connector_health_routes(make_client: ClientFactory) -> None:
    client = make_client()
    assert client.get("/api/channels/web/health").json() == {"status": "ok", "channel": "web"}
    assert client.get("/api/channels/rest/health").json() == {"status": "ok", "channel": "rest"}
