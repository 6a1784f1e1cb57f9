"""Rep notifications of hot leads: a Telegram chat, e-mail (SMTP) or a signed webhook.

Each notifier is a delivery target like a CRM adapter (``bot.crm.base.DeliveryTarget``);
the outbox worker delivers ``notify:<channel>`` entries through them.
"""
