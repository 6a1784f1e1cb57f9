"""The settings: environment names, grouped views, frozen values, the production guard."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from core.config import KnowledgeSettings, Settings, is_placeholder


def build(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_environment_variables_are_read_with_the_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CONCIERGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CONCIERGE_COMPANY_NAME", "Velo Works")
    monkeypatch.setenv("CHROMA_HOST", "chroma.internal")
    monkeypatch.setenv("CONCIERGE_CORS_ALLOW_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("CONCIERGE_CHANNELS", "web")
    settings = build()
    assert settings.data_dir == tmp_path
    assert settings.company.name == "Velo Works"
    assert settings.knowledge.chroma_host == "chroma.internal"
    assert settings.cors_allow_origins == ["https://a.example", "https://b.example"]
    assert settings.channels == ["web"]
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'concierge.db'}"


def test_origins_also_accept_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONCIERGE_CORS_ALLOW_ORIGINS", '["https://a.example"]')
    assert build().cors_allow_origins == ["https://a.example"]


def test_settings_are_frozen() -> None:
    settings = build()
    with pytest.raises(ValidationError):
        settings.company_name = "Other"  # type: ignore[misc]
    changed = settings.model_copy(update={"company_name": "Other"})
    assert changed.company.name == "Other"
    assert settings.company.name != "Other"


def test_the_knowledge_view_is_narrow_hashable_and_equal_by_value(tmp_path: Path) -> None:
    a = build(data_dir=tmp_path, content_dir=tmp_path / "content").knowledge
    b = build(data_dir=tmp_path, content_dir=tmp_path / "content").knowledge
    assert isinstance(a, KnowledgeSettings)
    assert a == b and hash(a) == hash(b)
    assert a.catalog_path == tmp_path / "content" / "catalog.json"
    assert a.chroma_dir == tmp_path / "chroma"
    assert not hasattr(a, "database_url")


def test_development_accepts_missing_secrets() -> None:
    settings = build(environment="development", llm_base_url="http://127.0.0.1:1/v1")
    assert settings.rasa_auth_token is None


@pytest.mark.parametrize("token", [None, "", "changeme", "CHANGEME", " secret ", "placeholder"])
def test_production_refuses_a_placeholder_rasa_token(token: str | None) -> None:
    with pytest.raises(ValidationError, match="CONCIERGE_RASA_AUTH_TOKEN"):
        build(environment="production", rasa_auth_token=token)


def test_production_refuses_a_placeholder_llm_key_when_an_llm_is_configured() -> None:
    with pytest.raises(ValidationError, match="CONCIERGE_LLM_API_KEY"):
        build(
            environment="production",
            rasa_auth_token="a-real-token-1234",
            llm_base_url="https://llm.internal/v1",
            llm_api_key="changeme",
        )


def test_production_accepts_real_secrets_and_hides_them() -> None:
    settings = build(
        environment="production",
        rasa_auth_token="t0k3n-7f1a9c",
        llm_base_url="https://llm.internal/v1",
        llm_api_key="sk-live-abc",
        conversation_token_secret="c0nv-9d8e7f6a5b4c3d2e1f00",
    )
    assert isinstance(settings.rasa_auth_token, SecretStr)
    assert "t0k3n" not in repr(settings) and "sk-live" not in repr(settings)
    assert "sk-live" not in str(settings.knowledge)


@pytest.mark.parametrize("secret", [None, "", "changeme", "secret"])
def test_production_refuses_a_missing_conversation_token_secret(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="CONCIERGE_CONVERSATION_TOKEN_SECRET"):
        build(
            environment="production",
            rasa_auth_token="a-real-token-1234",
            conversation_token_secret=secret,
        )


def test_production_refuses_a_placeholder_rest_api_key_but_accepts_none() -> None:
    real = {"rasa_auth_token": "a-real-token-1234", "conversation_token_secret": "k" * 32}
    with pytest.raises(ValidationError, match="CONCIERGE_REST_API_KEY"):
        build(environment="production", rest_api_key="changeme", **real)
    assert build(environment="production", **real).rest_api_key is None


def test_is_placeholder() -> None:
    assert is_placeholder(None)
    assert is_placeholder(SecretStr(" Change-Me "))
    assert not is_placeholder(SecretStr("9f8e7d6c"))


def test_a_refused_configuration_does_not_quote_secrets() -> None:
    with pytest.raises(ValidationError) as raised:
        build(
            environment="production",
            llm_base_url="https://llm.internal/v1",
            llm_api_key="sk-live-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
            database_url="postgresql://app:hunter2-secret@db/concierge",
        )
    message = str(raised.value)
    assert "CONCIERGE_RASA_AUTH_TOKEN" in message
    assert "0123456789" not in message and "hunter2" not in message
