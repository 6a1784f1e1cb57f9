"""The one settings object: environment variables (``CONCIERGE_*``) and an optional ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The repository root: where ``domain.yml`` and the demo content live."""

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "placeholder"})


class Settings(BaseSettings):
    """Configuration for the gateway, the action server, the knowledge base and the CLI.

    Every field is read from ``CONCIERGE_<FIELD>`` (``CHROMA_HOST``/``CHROMA_PORT`` also
    without the prefix). All embedded state lives under ``data_dir``.
    """

    model_config = SettingsConfigDict(
        env_prefix="CONCIERGE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(default=PROJECT_ROOT / ".data")
    content_dir: Path = Field(default=PROJECT_ROOT / "knowledge" / "demo")
    catalog_path: Path | None = None
    """Product catalog; defaults to ``content_dir/catalog.json``."""

    # The conversation engine and the processes `concierge run` supervises.
    rasa_url: str = "http://127.0.0.1:5005"
    action_server_url: str = "http://127.0.0.1:5055"
    rasa_timeout_seconds: float = Field(default=8.0, gt=0, le=9.5)
    """Longest wait for Rasa on one chat turn; the gateway answers 503 after it."""
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    public_url: str | None = None
    """Where customers reach the gateway (for links); defaults to http://host:port."""

    # The company: where customers can write when the assistant cannot help.
    company_name: str = "Kestrel Coffee Works"
    support_email: str = "support@kestrelcoffee.eu"
    sales_email: str = "sales@kestrelcoffee.eu"

    # Storage: SQLite under data_dir by default, PostgreSQL in production.
    database_url: str | None = None

    # Knowledge base.
    chroma_host: str | None = Field(
        default=None, validation_alias=AliasChoices("CHROMA_HOST", "CONCIERGE_CHROMA_HOST")
    )
    chroma_port: int = Field(
        default=8000, validation_alias=AliasChoices("CHROMA_PORT", "CONCIERGE_CHROMA_PORT")
    )
    kb_collection: str = Field(default="concierge", min_length=3, max_length=512)
    answer_threshold: float | None = Field(default=None, ge=0, le=1)
    """Confidence below which the assistant declines; None uses the measured default."""

    # Optional generation through any OpenAI-compatible endpoint.
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = Field(default=15.0, gt=0)

    @model_validator(mode="after")
    def _check_production(self) -> Settings:
        """Refuse placeholder secrets outside development."""
        if self.environment == "production" and self.llm_base_url:
            key = self.llm_api_key.get_secret_value() if self.llm_api_key else ""
            if key.strip().lower() in PLACEHOLDER_SECRETS:
                raise ValueError("CONCIERGE_LLM_API_KEY must be set to a real key in production")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The application database, defaulting to a SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'concierge.db'}"

    @property
    def chroma_dir(self) -> Path:
        """Folder of the embedded chroma store."""
        return self.data_dir / "chroma"

    @property
    def model_dir(self) -> Path:
        """Folder of the trained Rasa models."""
        return self.data_dir / "models"

    @property
    def resolved_catalog_path(self) -> Path:
        """The product catalog file."""
        return self.catalog_path or self.content_dir / "catalog.json"

    @property
    def base_url(self) -> str:
        """Public address of the gateway."""
        return self.public_url or f"http://{self.gateway_host}:{self.gateway_port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (tests call ``get_settings.cache_clear()``)."""
    return Settings()
