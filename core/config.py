"""The one settings object: environment variables (``CONCIERGE_*``) and an optional ``.env``.

Fields are flat so that each has one plain environment variable; the groups below are frozen
views handed to the parts that need only their share (``settings.knowledge`` for the
knowledge base, ``settings.company`` for wording).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The repository root: where ``domain.yml`` and the demo content live."""

PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "secret", "placeholder", "password", "token", "xxx"}
)
"""Values a secret may not keep in production (compared case-insensitively)."""


def is_placeholder(secret: SecretStr | None) -> bool:
    """Whether ``secret`` is missing or left at a placeholder such as ``changeme``."""
    value = secret.get_secret_value() if secret is not None else ""
    return value.strip().lower() in PLACEHOLDER_SECRETS


class CompanySettings(BaseModel):
    """Who the assistant speaks for, and where a customer can write to a person."""

    model_config = ConfigDict(frozen=True)

    name: str
    support_email: str
    sales_email: str


class KnowledgeSettings(BaseModel):
    """What the knowledge base needs: content, vector store, threshold, optional LLM."""

    model_config = ConfigDict(frozen=True)

    content_dir: Path
    catalog_path: Path
    chroma_dir: Path
    chroma_host: str | None = None
    chroma_port: int = 8000
    collection: str = Field(default="concierge", min_length=3, max_length=512)
    answer_threshold: float | None = Field(default=None, ge=0, le=1)
    company_name: str = ""
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = Field(default=15.0, gt=0)


def _split_origins(value: object) -> object:
    """Accept ``CONCIERGE_CORS_ALLOW_ORIGINS`` as a comma-separated list or JSON list."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Configuration of every process: gateway, action server, knowledge base, CLI, worker.

    Every field is read from ``CONCIERGE_<FIELD>`` (``CHROMA_HOST``/``CHROMA_PORT`` also
    without the prefix). All embedded state lives under ``data_dir``. The object is frozen:
    derive a changed copy with ``model_copy(update=...)``.
    """

    model_config = SettingsConfigDict(
        env_prefix="CONCIERGE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,  # an invalid setting's message must not quote a secret
    )

    # --- Deployment -------------------------------------------------------------------------
    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(default=PROJECT_ROOT / ".data")
    content_dir: Path = Field(default=PROJECT_ROOT / "knowledge" / "demo")
    catalog_path: Path | None = None
    """Product catalog; defaults to ``content_dir/catalog.json``."""
    log_level: str = "INFO"
    log_pseudonym_key: SecretStr | None = None
    """Key of the conversation pseudonyms in logs; default: one made for the data directory."""

    # --- Conversation engine and the processes `concierge run` supervises -------------------
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_auth_token: SecretStr | None = None
    """Token of Rasa's HTTP API (``--auth-token``); generated per run in development."""
    action_server_url: str = "http://127.0.0.1:5055"
    rasa_timeout_seconds: float = Field(default=8.0, gt=0, le=9.5)
    """Longest wait for Rasa on one chat turn; the gateway answers 503 after it."""

    # --- Production mode: replicas of `concierge run --production` (docs/production.md) -----
    rasa_replicas: int = Field(default=1, ge=1, le=32)
    """Rasa processes; replica i listens on the port of ``rasa_url`` + i."""
    action_server_replicas: int = Field(default=1, ge=1, le=32)
    """Action servers; Rasa replica i calls action server i modulo this number."""
    gateway_replicas: int = Field(default=1, ge=1, le=32)
    """Gateways; gateway i listens on ``gateway_port`` + i (a load balancer goes in front)."""
    rasa_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Rasa replicas the gateway balances over (comma-separated); empty: ``rasa_url`` alone."""
    tracker_store_url: str | None = Field(
        default=None, pattern=r"^postgresql(\+[a-z0-9]+)?://[^?#]+$"
    )
    """PostgreSQL database of Rasa's trackers (``postgresql://user:pw@host:5432/db``)."""
    rasa_lock_lifetime_seconds: int = Field(default=10, ge=5, le=600)
    """Longest hold of a conversation's Redis lock (Rasa's ``TICKET_LOCK_LIFETIME``): how long
    a conversation waits after its replica died mid-turn. Keep it >= the Rasa timeout."""

    # --- Gateway ------------------------------------------------------------------------------
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    public_url: str | None = None
    """Where customers reach the gateway (for links); defaults to http://host:port."""
    cors_allow_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["*"])
    """Origins whose pages may embed the widget (the public ``/api/*`` routes only)."""
    channels: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["web", "rest"])
    """Connectors the gateway builds (``CONCIERGE_CHANNELS=web,rest``)."""

    # --- Access: customers' conversation tokens, integrations, staff sign-in ---------------------
    conversation_token_secret: SecretStr | None = None
    """Key that signs conversation tokens; default in development: one made for the data dir."""
    conversation_token_ttl_seconds: int = Field(default=86_400, ge=60, le=90 * 86_400)
    """How long a conversation token stays valid; every reply carries a renewed one."""
    rest_api_key: SecretStr | None = None
    """Key integrations send to the REST channel; unset: open in development, off in production."""
    session_ttl_seconds: int = Field(default=8 * 3600, ge=60, le=30 * 86_400)
    """How long a staff sign-in lasts before the person must sign in again."""
    login_max_failures_per_account: int = Field(default=5, ge=1)
    """Failed sign-ins for one account within the window before it is throttled."""
    login_max_failures_per_address: int = Field(default=20, ge=1)
    """Failed sign-ins from one client address within the window before it is throttled."""
    login_throttle_window_seconds: int = Field(default=900, ge=1)
    """The throttling window (and how long a throttled account or address waits)."""

    # --- Knowledge console: uploads by support staff ---------------------------------------------
    kb_upload_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024)
    """Largest document one upload may carry (bytes); larger files are refused by name."""
    kb_upload_max_files: int = Field(default=20, ge=1, le=200)
    """Most files one upload may carry."""
    kb_jobs_poll_seconds: float = Field(default=2.0, gt=0, le=60)
    """How often the worker looks for queued knowledge-base jobs."""

    # --- The company ----------------------------------------------------------------------------
    company_name: str = "Kestrel Coffee Works"
    support_email: str = "support@kestrelcoffee.eu"
    sales_email: str = "sales@kestrelcoffee.eu"
    locale: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    """Language of the widget's own texts (BCP 47, e.g. ``en``)."""
    widget_subtitle: str = "Ask about products, orders, shipping and returns"
    # Widget texts and images (docs/widget.md); empty texts fall back to content_dir/widget.yml.
    widget_greeting: str = ""
    """First line the widget shows; empty: ``content_dir/widget.yml``'s, else its own."""
    widget_image_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """``https://`` origins besides the gateway's whose images replies may show."""

    # --- Storage: SQLite under data_dir by default, PostgreSQL in production ---------------------
    database_url: str | None = None

    # --- Production services (docs/production.md; `concierge check-services` checks them) -------
    redis_url: str | None = Field(default=None, pattern=r"^rediss?://[^/?#]+(/\d*)?$")
    """Redis (``redis://:password@host:6379/0``); unset: the embedded default, no Redis."""
    rabbitmq_url: str | None = Field(default=None, pattern=r"^amqps?://[^?#]+$")
    """RabbitMQ (``amqp://user:password@host:5672/vhost``); unset: no event broker."""

    # --- Rate limits, back-pressure and Redis-shared state (docs/production.md) -----------------
    rate_limit_enabled: bool = True
    """Limit requests per conversation and per client address on the public routes (429)."""
    rate_limit_conversation_per_minute: int = Field(default=30, ge=1, le=100_000)
    """Sustained messages (feedback, stream connects: each counted apart) per conversation."""
    rate_limit_conversation_burst: int = Field(default=20, ge=1, le=100_000)
    """How many of them may come at once before the per-minute spacing applies."""
    rate_limit_address_per_minute: int = Field(default=600, ge=1, le=1_000_000)
    """Sustained requests to the widget's routes from one client address (offices share one)."""
    rate_limit_address_burst: int = Field(default=120, ge=1, le=1_000_000)
    """How many of them may come at once."""
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Addresses or CIDR blocks of proxies whose ``X-Forwarded-For`` is believed."""
    max_inflight_turns: int = Field(default=32, ge=1, le=100_000)
    """Conversation turns one gateway process runs at once; more get a fast 503."""
    overload_retry_after_seconds: int = Field(default=2, ge=1, le=300)
    """``Retry-After`` of that 503."""
    redis_key_prefix: str = Field(default="concierge:", pattern=r"^[A-Za-z0-9:_.-]{1,64}$")
    """Prefix of the gateway's Redis keys and channel (deployments sharing one Redis)."""
    realtime_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    """Longest wait before an open chat stream looks at the database for new events."""

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _trusted_proxies(cls, value: object) -> object:
        """Accept a comma-separated list; refuse what is not an address or CIDR block."""
        items = _split_origins(value)
        if isinstance(items, list):
            for item in items:
                try:
                    ipaddress.ip_network(str(item).strip(), strict=False)
                except ValueError:
                    raise ValueError(
                        f"CONCIERGE_TRUSTED_PROXIES: {item!r} is not an IP address or CIDR block"
                    ) from None
        return items

    # --- Knowledge base -----------------------------------------------------------------------
    chroma_host: str | None = Field(
        default=None, validation_alias=AliasChoices("CHROMA_HOST", "CONCIERGE_CHROMA_HOST")
    )
    chroma_port: int = Field(
        default=8000, validation_alias=AliasChoices("CHROMA_PORT", "CONCIERGE_CHROMA_PORT")
    )
    kb_collection: str = Field(default="concierge", min_length=3, max_length=512)
    answer_threshold: float | None = Field(default=None, ge=0, le=1)
    """Confidence below which the assistant declines; None uses the measured default."""

    # --- Optional generation through any OpenAI-compatible endpoint ---------------------------
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = Field(default=15.0, gt=0)

    # --- Leads: scoring, CRM delivery through the outbox, rep notifications -------------------
    scoring_rules_path: Path | None = None
    """Lead scoring rules; defaults to ``content_dir/scoring.yml``."""
    crm: Literal["builtin", "hubspot", "salesforce", "webhook"] = "builtin"
    """Where leads are delivered besides the built-in tables (``CONCIERGE_CRM``)."""
    crm_timeout_seconds: float = Field(default=10.0, gt=0)
    crm_webhook_url: str | None = None
    crm_webhook_secret: SecretStr | None = None
    hubspot_token: SecretStr | None = None
    """Access token of a HubSpot private app (scopes: contacts and deals, write)."""
    hubspot_base_url: str = "https://api.hubapi.com"
    hubspot_deal_pipeline: str = "default"
    hubspot_deal_stage: str = "appointmentscheduled"
    hubspot_deal_id_property: str = "concierge_lead_id"
    """A unique-value deal property HubSpot upserts deals by (create it once in HubSpot)."""
    salesforce_instance_url: str | None = None
    salesforce_access_token: SecretStr | None = None
    salesforce_api_version: str = Field(default="v60.0", pattern=r"^v\d+\.\d$")
    salesforce_external_id_field: str = "Concierge_Lead_Id__c"
    outbox_max_attempts: int = Field(default=10, ge=1)
    """Attempts before an entry goes to the dead letters."""
    outbox_backoff_base_seconds: float = Field(default=2.0, gt=0)
    outbox_backoff_cap_seconds: float = Field(default=900.0, gt=0)
    outbox_lease_seconds: float = Field(default=60.0, gt=0)
    """How long a claim lasts; a worker killed mid-delivery leaves entries retried after it."""
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    outbox_batch_size: int = Field(default=20, ge=1, le=500)
    outbox_concurrency: int = Field(default=4, ge=1, le=64)
    """Deliveries one worker runs at once (each waits on an outside system)."""
    notify_channels: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Rep notification of hot leads: any of ``telegram``, ``email``, ``webhook``."""
    notify_telegram_bot_token: SecretStr | None = None
    notify_telegram_chat_id: str | None = None
    notify_telegram_base_url: str = "https://api.telegram.org"
    notify_smtp_host: str | None = None
    notify_smtp_port: int = 587
    notify_smtp_starttls: bool = True
    notify_smtp_username: str | None = None
    notify_smtp_password: SecretStr | None = None
    notify_email_from: str | None = None
    notify_email_to: Annotated[list[str], NoDecode] = Field(default_factory=list)
    notify_webhook_url: str | None = None
    notify_webhook_secret: SecretStr | None = None
    worker_health_url: str = "http://127.0.0.1:8001"
    """Where ``concierge worker`` answers ``GET /health`` (the supervisor's readiness check)."""

    # --- Telegram channel (``telegram`` in CONCIERGE_CHANNELS) ----------------------------------
    telegram_token: SecretStr | None = None
    """The bot's token from @BotFather (``123456:ABC...``)."""
    telegram_webhook_secret: SecretStr | None = None
    """What Telegram sends in ``X-Telegram-Bot-Api-Secret-Token``; the webhook refuses others."""
    telegram_api_url: str = "https://api.telegram.org"
    """The Bot API's base URL (a local Bot API server, or a stand-in in tests)."""
    telegram_update_ttl_seconds: int = Field(default=86_400, ge=60)
    """How long a processed ``update_id`` is remembered (Telegram's resends come sooner)."""
    telegram_agent_chat_id: int | None = None
    """A Telegram group of reps: new handoffs are posted there and replies reach the customer."""

    # --- Handoff to a person: business hours and the wait before the offer to leave a message --
    handoff_timezone: str = "Europe/Berlin"
    handoff_days: str = "mon-fri"
    """Days people answer: ``mon-fri``, ``mon-fri,sat``..."""
    handoff_hours: str = "09:00-17:00"
    """The daily window people answer, local time of ``handoff_timezone``."""
    handoff_holidays: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Dates nobody answers (``2026-12-25,2026-12-26``)."""
    handoff_max_wait_seconds: int = Field(default=300, ge=10)
    """How long a customer waits for a person before the bot offers to take a message."""

    # --- Event feed: Rasa's events copied into the app's own table by the worker ---------------
    events_db: Path | None = None
    """SQLite file of Rasa's SQL event broker; defaults to ``data_dir/rasa-events.db``."""
    events_broker_url: str | None = None
    """SQLAlchemy URL of a server database Rasa's SQL event broker writes (instead of the file)."""
    event_broker_queue: str = Field(default="concierge_rasa_events", min_length=1, max_length=255)
    """RabbitMQ queue Rasa's Pika event broker publishes to (with ``CONCIERGE_RABBITMQ_URL``)."""
    events_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    """How often the worker reads new events from Rasa's event broker table."""
    events_batch_size: int = Field(default=500, ge=1, le=10_000)
    """Most broker rows the worker copies in one transaction."""

    @model_validator(mode="before")
    @classmethod
    def _lists_from_env(cls, values: object) -> object:
        if isinstance(values, dict):
            for key in (
                "cors_allow_origins",
                "channels",
                "notify_channels",
                "notify_email_to",
                "handoff_holidays",
                "widget_image_origins",
                "rasa_urls",
            ):
                if key in values:
                    values[key] = _split_origins(values[key])
        return values

    @model_validator(mode="after")
    def _check_production(self) -> Settings:
        """Refuse placeholder secrets in production."""
        if self.environment != "production":
            return self
        problems: list[str] = []
        if is_placeholder(self.rasa_auth_token):
            problems.append("CONCIERGE_RASA_AUTH_TOKEN must be set to a real token")
        if self.llm_base_url and is_placeholder(self.llm_api_key):
            problems.append("CONCIERGE_LLM_API_KEY must be set to a real key")
        if is_placeholder(self.conversation_token_secret):
            problems.append("CONCIERGE_CONVERSATION_TOKEN_SECRET must be set to a real key")
        if self.rest_api_key is not None and is_placeholder(self.rest_api_key):
            problems.append("CONCIERGE_REST_API_KEY must be a real key or unset")
        if problems:
            raise ValueError("in production, " + "; ".join(problems))
        return self

    @model_validator(mode="after")
    def _check_telegram(self) -> Settings:
        """Refuse the Telegram channel without its token (the webhook also needs its secret)."""
        if "telegram" in self.channels and is_placeholder(self.telegram_token):
            raise ValueError("CONCIERGE_TELEGRAM_TOKEN must be set for the telegram channel")
        return self

    @model_validator(mode="after")
    def _check_delivery(self) -> Settings:
        """Refuse a CRM or notification channel that lacks what it needs."""
        problems = delivery_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # --- Derived values -----------------------------------------------------------------------
    @property
    def sqlalchemy_url(self) -> str:
        """The application database, defaulting to a SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'concierge.db'}"

    @property
    def rasa_events_db(self) -> Path:
        """The SQLite file Rasa's SQL event broker writes and the worker's feed reads."""
        return self.events_db or self.data_dir / "rasa-events.db"

    @property
    def chroma_dir(self) -> Path:
        """Folder of the embedded chroma store."""
        return self.data_dir / "chroma"

    @property
    def model_dir(self) -> Path:
        """Folder of the trained Rasa models."""
        return self.data_dir / "models"

    @property
    def log_dir(self) -> Path:
        """Folder of the supervised processes' logs."""
        return self.data_dir / "logs"

    @property
    def resolved_catalog_path(self) -> Path:
        """The product catalog file."""
        return self.catalog_path or self.content_dir / "catalog.json"

    @property
    def resolved_scoring_rules_path(self) -> Path:
        """The lead scoring rules file."""
        return self.scoring_rules_path or self.content_dir / "scoring.yml"

    @property
    def base_url(self) -> str:
        """Public address of the gateway."""
        return self.public_url or f"http://{self.gateway_host}:{self.gateway_port}"

    @property
    def company(self) -> CompanySettings:
        """The company's name and addresses."""
        return CompanySettings(
            name=self.company_name, support_email=self.support_email, sales_email=self.sales_email
        )

    @property
    def knowledge(self) -> KnowledgeSettings:
        """The narrow settings the knowledge base takes."""
        return KnowledgeSettings(
            content_dir=self.content_dir,
            catalog_path=self.resolved_catalog_path,
            chroma_dir=self.chroma_dir,
            chroma_host=self.chroma_host,
            chroma_port=self.chroma_port,
            collection=self.kb_collection,
            answer_threshold=self.answer_threshold,
            company_name=self.company_name,
            llm_base_url=self.llm_base_url,
            llm_api_key=self.llm_api_key,
            llm_model=self.llm_model,
            llm_timeout_seconds=self.llm_timeout_seconds,
        )


NOTIFY_CHANNELS = frozenset({"telegram", "email", "webhook"})
"""Channels a hot lead's notification can go through."""


def delivery_problems(settings: Settings) -> list[str]:
    """Return what the configured CRM and notification channels lack (placeholders too)."""
    production = settings.environment == "production"
    problems: list[str] = []

    def secret(value: SecretStr | None, name: str) -> None:
        if value is None or not value.get_secret_value().strip():
            problems.append(f"{name} must be set")
        elif production and is_placeholder(value):
            problems.append(f"in production, {name} must be set to a real secret")

    if settings.crm == "webhook":
        if not settings.crm_webhook_url:
            problems.append("CONCIERGE_CRM_WEBHOOK_URL must be set for CONCIERGE_CRM=webhook")
        secret(settings.crm_webhook_secret, "CONCIERGE_CRM_WEBHOOK_SECRET")
    elif settings.crm == "hubspot":
        secret(settings.hubspot_token, "CONCIERGE_HUBSPOT_TOKEN")
    elif settings.crm == "salesforce":
        if not settings.salesforce_instance_url:
            problems.append("CONCIERGE_SALESFORCE_INSTANCE_URL must be set")
        secret(settings.salesforce_access_token, "CONCIERGE_SALESFORCE_ACCESS_TOKEN")
    unknown = sorted(set(settings.notify_channels) - NOTIFY_CHANNELS)
    if unknown:
        problems.append(f"CONCIERGE_NOTIFY_CHANNELS: unknown channel(s) {', '.join(unknown)}")
    if "telegram" in settings.notify_channels:
        secret(settings.notify_telegram_bot_token, "CONCIERGE_NOTIFY_TELEGRAM_BOT_TOKEN")
        if not settings.notify_telegram_chat_id:
            problems.append("CONCIERGE_NOTIFY_TELEGRAM_CHAT_ID must be set")
    if "email" in settings.notify_channels:
        if not (settings.notify_smtp_host and settings.notify_email_from):
            problems.append(
                "CONCIERGE_NOTIFY_SMTP_HOST and CONCIERGE_NOTIFY_EMAIL_FROM must be set"
            )
        if not settings.notify_email_to:
            problems.append("CONCIERGE_NOTIFY_EMAIL_TO must name at least one address")
        if settings.notify_smtp_username:
            secret(settings.notify_smtp_password, "CONCIERGE_NOTIFY_SMTP_PASSWORD")
    if "webhook" in settings.notify_channels:
        if not settings.notify_webhook_url:
            problems.append("CONCIERGE_NOTIFY_WEBHOOK_URL must be set")
        secret(settings.notify_webhook_secret, "CONCIERGE_NOTIFY_WEBHOOK_SECRET")
    return problems


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (tests call ``get_settings.cache_clear()``)."""
    return Settings()
