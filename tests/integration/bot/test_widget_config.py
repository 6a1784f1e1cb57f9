"""``GET /api/widget/config``: the widget's texts come from the company's settings."""

from __future__ import annotations

from tests.integration.bot.conftest import ClientFactory


def test_config_names_the_configured_company(make_client: ClientFactory) -> None:
    client = make_client(company_name="Velo Works", support_email="help@velo.example", locale="en")
    response = client.get("/api/widget/config")
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Velo Works"
    assert body["support_email"] == "help@velo.example"
    assert "help@velo.example" in body["fallback"]
    assert body["locale"] == "en"
    assert "kestrel" not in response.text.lower()


def test_config_is_public_for_allowed_origins(make_client: ClientFactory) -> None:
    client = make_client(cors_allow_origins=["https://shop.example"])
    allowed = client.get("/api/widget/config", headers={"Origin": "https://shop.example"})
    assert allowed.headers.get("access-control-allow-origin") == "https://shop.example"
    other = client.get("/api/widget/config", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
