"""Notify the sales team by e-mail over SMTP (STARTTLS and login when configured)."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid

from bot.crm.base import Delivery, DeliveryError, DeliveryResult, summary_lines
from core.storage.leads import LeadRecord


class EmailNotifier:
    """Mail a hot lead's summary to the sales team (``CONCIERGE_NOTIFY_CHANNELS=email``)."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        base_url: str,
        *,
        starttls: bool = True,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        """Send through ``host:port`` from ``sender`` to ``recipients``."""
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = list(recipients)
        self.base_url = base_url
        self.starttls = starttls
        self.username = username
        self.password = password
        self.timeout = timeout

    def message(self, lead: LeadRecord, delivery: Delivery) -> EmailMessage:
        """Return the e-mail: subject with grade, name and score; the summary as the body."""
        mail = EmailMessage()
        who = lead.name or lead.email
        company = f" ({lead.company})" if lead.company else ""
        mail["Subject"] = f"{lead.grade.capitalize()} lead: {who}{company}, score {lead.score}"
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.recipients)
        domain = self.sender.rsplit("@", 1)[-1]
        mail["Message-ID"] = make_msgid(idstring=delivery.idempotency_key, domain=domain)
        mail.set_content("\n".join(summary_lines(lead, self.base_url)) + "\n")
        return mail

    def deliver(self, lead: LeadRecord, delivery: Delivery) -> DeliveryResult:
        """Send the e-mail; a refused recipient or login is a dead letter, the rest retried."""
        mail = self.message(lead, delivery)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryError(
                f"the SMTP server refused the login ({error.smtp_code})",
                retryable=False,
                status_code=error.smtp_code,
            ) from error
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryError(
                "the SMTP server refused every recipient", retryable=False
            ) from error
        except smtplib.SMTPResponseException as error:
            code = error.smtp_code
            raise DeliveryError(
                f"the SMTP server answered {code}", retryable=code < 500, status_code=code
            ) from error
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            raise DeliveryError(
                f"the SMTP server could not be reached ({type(error).__name__})", retryable=True
            ) from error
        return DeliveryResult(crm_id=str(mail["Message-ID"]))
