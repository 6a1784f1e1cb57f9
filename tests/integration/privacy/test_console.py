"""The console's data-rights API and page: admin only, CSRF, a confirmation before erasing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bot.app import create_app
from tests.integration.privacy.conftest import (
    EMAIL,
    NAME,
    World,
    find_needles,
    sqlite_url,
)
from tests.support.staff import form_token, sign_in


def _stores(world: World) -> list[str]:
    return [world.app_url, sqlite_url(world.tracker_path), sqlite_url(world.broker_path)]


def test_the_api_exports_previews_and_erases_after_confirmation(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        csrf = sign_in(client, "admin@example.com")
        headers = {"X-CSRF-Token": csrf}

        refused = client.post("/api/admin/privacy/export", json={"email": EMAIL})
        assert refused.status_code == 403  # no CSRF token

        export = client.post("/api/admin/privacy/export", json={"email": EMAIL}, headers=headers)
        assert export.status_code == 200, export.text
        assert export.headers["cache-control"] == "no-store" and export.json()["found"]
        assert export.json()["contact"]["name"] == NAME

        bad = client.post("/api/admin/privacy/export", json={"email": "nobody"}, headers=headers)
        assert bad.status_code in (400, 422) and "error" in bad.json()

        preview = client.post("/api/admin/privacy/erase", json={"email": EMAIL}, headers=headers)
        assert preview.status_code == 200
        assert preview.json()["erased"] is False and preview.json()["found"] is True
        wrong = client.post(
            "/api/admin/privacy/erase",
            json={"email": EMAIL, "confirm": "someone@else.example"},
            headers=headers,
        )
        assert wrong.json()["erased"] is False
        assert find_needles(world.app_url)  # nothing erased yet

        done = client.post(
            "/api/admin/privacy/erase",
            json={"email": EMAIL, "confirm": EMAIL.upper()},
            headers=headers,
        )
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["erased"] is True and body["status"] == "done"
        assert body["counts"]["app"]["contacts"] == 1

        assert "/api/admin/privacy/erase" in client.get("/openapi.json").json()["paths"]
    for url in _stores(world):
        assert find_needles(url) == [], url


def test_the_page_asks_for_the_email_again_then_erases(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        sign_in(client, "admin@example.com")
        page = client.get("/admin/privacy")
        assert page.status_code == 200 and "Data rights" in page.text
        token = form_token(page.text)

        download = client.post("/admin/privacy/export", data={"csrf_token": token, "email": EMAIL})
        assert download.status_code == 200
        assert download.headers["content-disposition"].startswith("attachment")
        assert download.json()["found"] is True

        preview = client.post("/admin/privacy/erase", data={"csrf_token": token, "email": EMAIL})
        assert preview.status_code == 200 and 'id="privacy-preview"' in preview.text
        assert find_needles(world.app_url)

        erased = client.post(
            "/admin/privacy/erase", data={"csrf_token": token, "email": EMAIL, "confirm": EMAIL}
        )
        assert erased.status_code == 200 and 'id="privacy-report"' in erased.text
        assert ">done<" in erased.text
    for url in _stores(world):
        assert find_needles(url) == [], url


def test_sales_staff_cannot_use_it(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        csrf = sign_in(client, "sales@example.com")
        answer = client.post(
            "/api/admin/privacy/export", json={"email": EMAIL}, headers={"X-CSRF-Token": csrf}
        )
        assert answer.status_code == 403
        assert client.get("/admin/privacy").status_code == 403
        assert "/admin/privacy" not in client.get("/console").text
