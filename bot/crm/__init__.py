"""CRM delivery: one adapter per CRM behind one protocol, chosen by ``CONCIERGE_CRM``.

``builtin`` (the project's own leads tables), ``hubspot``, ``salesforce`` and ``webhook``.
Adapters never run in a chat turn: the outbox worker (``bot.workers.outbox``) calls them.
"""

from __future__ import annotations

import httpx

from bot.crm.base import DeliveryTarget
from bot.crm.builtin import BuiltinCRM
from bot.crm.hubspot import HubSpotCRM
from bot.crm.salesforce import SalesforceCRM
from bot.crm.webhook import WebhookCRM
from bot.notify.email import EmailNotifier
from bot.notify.telegram import TelegramNotifier
from bot.notify.webhook import WebhookNotifier
from core.config import Settings


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter is not None else ""


def crm_adapter(settings: Settings, client: httpx.Client) -> DeliveryTarget:
    """Return the adapter of ``CONCIERGE_CRM``."""
    base = settings.base_url
    if settings.crm == "hubspot":
        return HubSpotCRM(
            _secret(settings.hubspot_token),
            client,
            base,
            api_url=settings.hubspot_base_url,
            pipeline=settings.hubspot_deal_pipeline,
            deal_stage=settings.hubspot_deal_stage,
            deal_id_property=settings.hubspot_deal_id_property,
        )
    if settings.crm == "salesforce":
        return SalesforceCRM(
            settings.salesforce_instance_url or "",
            _secret(settings.salesforce_access_token),
            client,
            base,
            api_version=settings.salesforce_api_version,
            external_id_field=settings.salesforce_external_id_field,
        )
    if settings.crm == "webhook":
        return WebhookCRM(
            settings.crm_webhook_url or "", _secret(settings.crm_webhook_secret), client, base
        )
    return BuiltinCRM()


def notifiers(settings: Settings, client: httpx.Client) -> dict[str, DeliveryTarget]:
    """Return the rep notifiers of ``CONCIERGE_NOTIFY_CHANNELS``, by channel name."""
    base = settings.base_url
    found: dict[str, DeliveryTarget] = {}
    for channel in settings.notify_channels:
        if channel == "telegram":
            found[channel] = TelegramNotifier(
                _secret(settings.notify_telegram_bot_token),
                settings.notify_telegram_chat_id or "",
                client,
                base,
                api_url=settings.notify_telegram_base_url,
            )
        elif channel == "email":
            found[channel] = EmailNotifier(
                settings.notify_smtp_host or "",
                settings.notify_smtp_port,
                settings.notify_email_from or "",
                settings.notify_email_to,
                base,
                starttls=settings.notify_smtp_starttls,
                username=settings.notify_smtp_username,
                password=_secret(settings.notify_smtp_password) or None,
                timeout=settings.crm_timeout_seconds,
            )
        elif channel == "webhook":
            found[channel] = WebhookNotifier(
                settings.notify_webhook_url or "",
                _secret(settings.notify_webhook_secret),
                client,
                base,
            )
    return found


def delivery_targets(settings: Settings, client: httpx.Client) -> dict[str, DeliveryTarget]:
    """Return every target the worker delivers to, by outbox kind (``crm:...``, ``notify:...``)."""
    targets: dict[str, DeliveryTarget] = {"crm:builtin": BuiltinCRM()}
    targets[f"crm:{settings.crm}"] = crm_adapter(settings, client)
    for channel, target in notifiers(settings, client).items():
        targets[f"notify:{channel}"] = target
    return targets
