"""Notify the sales team in a Telegram chat through the Bot API's ``sendMessage``.

A 429 answer carries ``parameters.retry_after`` (seconds), which the worker waits; a chat
the bot cannot write to (400, 403) is a dead letter with Telegram's description.
"""

from __future__ import annotations

import httpx

from bot.crm.base import Delivery, DeliveryError, DeliveryResult, summary_lines, transport_errors
from core.storage.leads import LeadRecord

MAX_TEXT = 4096
"""Telegram's limit on one message's text."""


class TelegramNotifier:
    """Send a hot lead's summary to one chat (``CONCIERGE_NOTIFY_CHANNELS=telegram``)."""

    name = "telegram"

    def __init__(
        self,
        token: str,
        chat_id: str,
        client: httpx.Client,
        base_url: str,
        api_url: str = "https://api.telegram.org",
    ) -> None:
        """Send as the bot of ``token`` to ``chat_id``."""
        self.token = token
        self.chat_id = chat_id
        self.client = client
        self.base_url = base_url
        self.api_url = api_url.rstrip("/")

    def text(self, lead: LeadRecord) -> str:
        """Return the message: the lead's summary, within Telegram's length limit."""
        text = "\n".join(summary_lines(lead, self.base_url))
        return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"

    def deliver(self, lead: LeadRecord, delivery: Delivery) -> DeliveryResult:
        """Call ``sendMessage``; the message id is the delivery's id."""
        url = f"{self.api_url}/bot{self.token}/sendMessage"
        payload = {
            "chat_id": self.chat_id,
            "text": self.text(lead),
            "disable_web_page_preview": True,
        }
        with transport_errors("Telegram"):
            response = self.client.post(url, json=payload)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200 and body.get("ok"):
            message_id = body.get("result", {}).get("message_id")
            return DeliveryResult(crm_id=str(message_id) if message_id is not None else None)
        status = response.status_code
        description = str(body.get("description", response.text[:200]))
        retry_after = body.get("parameters", {}).get("retry_after")
        raise DeliveryError(
            f"Telegram answered {status}: {description}",
            retryable=status == 429 or status >= 500,
            status_code=status,
            retry_after=float(retry_after) if retry_after is not None else None,
        )
