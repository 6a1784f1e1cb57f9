"""Notify the sales team through a signed webhook (the same signing as the webhook CRM)."""

from __future__ import annotations

import httpx

from bot.crm.webhook import WebhookCRM


class WebhookNotifier(WebhookCRM):
    """POST a hot lead, signed, as a ``lead.hot`` event (``CONCIERGE_NOTIFY_CHANNELS=webhook``)."""

    name = "webhook"

    def __init__(self, url: str, secret: str, client: httpx.Client, base_url: str) -> None:
        """Send to ``url``, signing with ``secret``."""
        super().__init__(url, secret, client, base_url, event="lead.hot")
