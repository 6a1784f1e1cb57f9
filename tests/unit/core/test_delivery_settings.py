"""Settings of the CRM, outbox and notifications: what each choice requires, production guard."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.config import Settings


def build(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_the_default_crm_is_builtin_and_needs_nothing() -> None:
    settings = build()
    assert settings.crm == "builtin"
    assert settings.notify_channels == []
    assert settings.hubspot_base_url == "https://api.hubapi.com"
    assert settings.resolved_scoring_rules_path == settings.content_dir / "scoring.yml"


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"crm": "webhook"}, "CONCIERGE_CRM_WEBHOOK_URL"),
        ({"crm": "webhook", "crm_webhook_url": "http://x"}, "CONCIERGE_CRM_WEBHOOK_SECRET"),
        ({"crm": "hubspot"}, "CONCIERGE_HUBSPOT_TOKEN"),
        (
            {"crm": "salesforce", "salesforce_access_token": "t"},
            "CONCIERGE_SALESFORCE_INSTANCE_URL",
        ),
        ({"notify_channels": "telegram", "notify_telegram_bot_token": "1:a"}, "CHAT_ID"),
        ({"notify_channels": "email", "notify_smtp_host": "mx"}, "CONCIERGE_NOTIFY_EMAIL_FROM"),
        ({"notify_channels": "pigeon"}, "unknown channel"),
    ],
)
def test_a_choice_without_what_it_needs_is_refused(values: dict[str, object], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        build(**values)


def test_lists_come_from_comma_separated_environment_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONCIERGE_NOTIFY_CHANNELS", "email, webhook")
    monkeypatch.setenv("CONCIERGE_NOTIFY_EMAIL_TO", "a@x.example,b@x.example")
    monkeypatch.setenv("CONCIERGE_NOTIFY_SMTP_HOST", "mx.example")
    monkeypatch.setenv("CONCIERGE_NOTIFY_EMAIL_FROM", "bot@x.example")
    monkeypatch.setenv("CONCIERGE_NOTIFY_WEBHOOK_URL", "https://hooks.example/sales")
    monkeypatch.setenv("CONCIERGE_NOTIFY_WEBHOOK_SECRET", "a-real-secret-123")
    settings = build()
    assert settings.notify_channels == ["email", "webhook"]
    assert settings.notify_email_to == ["a@x.example", "b@x.example"]


def test_production_refuses_placeholder_crm_secrets_without_quoting_them() -> None:
    with pytest.raises(ValidationError) as caught:
        build(
            environment="production",
            rasa_auth_token="a-real-token-1234567890",
            conversation_token_secret="a-real-key-1234567890",
            crm="webhook",
            crm_webhook_url="https://crm.example/hook",
            crm_webhook_secret="changeme",
        )
    assert "CONCIERGE_CRM_WEBHOOK_SECRET" in str(caught.value)
    assert "changeme" not in str(caught.value)
    development = build(crm="webhook", crm_webhook_url="http://x", crm_webhook_secret="changeme")
    assert development.crm_webhook_secret is not None
