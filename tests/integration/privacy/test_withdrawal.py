"""Consent withdrawal: the action records it, and the CRM delivery honours it.

Before the lead reached the CRM, its delivery (and any rep notification) is cancelled; once
it has, the lead is delivered again with the opt-out (Salesforce's ``HasOptedOutOfEmail``).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select

from actions import deps
from actions.privacy import ActionWithdrawConsent
from bot.crm.salesforce import SalesforceCRM
from bot.workers.outbox import OutboxWorker, RetryPolicy
from core.storage import get_engine, session_scope
from core.storage.leads import lead_record
from core.storage.models import Consent, ContactRequest, OutboxEntry
from core.storage.privacy import CANCELLED_BY_WITHDRAWAL
from tests.integration.privacy.conftest import CHAT, EMAIL, NAME, PHONE, capture, make_settings
from tests.support.crm_standins import HubSpotStandIn, SalesforceStandIn
from tests.support.trackers import DOMAIN, _domain

TOKEN = "token-for-tests"
SLOTS = {"company_name": "Kestrel Coffee Works", "support_email": "support@kestrel.example"}


def _tracker(conversation: str, text: str = "please stop contacting me") -> Tracker:
    return Tracker.from_dict(
        {
            "sender_id": conversation,
            "slots": SLOTS,
            "latest_message": {"text": text, "intent": {"name": "withdraw_consent"}},
            "events": [
                {
                    "event": "user",
                    "timestamp": time.time(),
                    "text": text,
                    "parse_data": {"intent": {"name": "withdraw_consent"}},
                },
            ],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def _withdraw(engine: Engine, monkeypatch: pytest.MonkeyPatch, conversation: str) -> list[Any]:
    monkeypatch.setattr(deps, "get_database", lambda: engine)
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ActionWithdrawConsent().run(dispatcher, _tracker(conversation), _domain(DOMAIN))
    )
    assert events == []
    return dispatcher.messages


def test_withdrawal_before_delivery_cancels_it(
    tmp_path: Path, app_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hubspot = HubSpotStandIn(TOKEN)
    with hubspot.running():
        settings = make_settings(
            tmp_path / "data", app_url, crm="hubspot", hubspot_token=TOKEN,
            hubspot_base_url=hubspot.url, notify_channels=["webhook"],
            notify_webhook_url=hubspot.url + "/notify", notify_webhook_secret="notify-secret",
        )  # fmt: skip
        engine = get_engine(app_url)
        lead_id = capture(engine, settings, CHAT, EMAIL, NAME, PHONE)

        messages = _withdraw(engine, monkeypatch, CHAT)

        assert [m["response"] for m in messages] == ["utter_consent_withdrawn"]
        with session_scope(engine) as session:
            refused = session.scalars(
                select(Consent).where(Consent.granted.is_(False)).order_by(Consent.purpose)
            ).all()
            assert [c.purpose for c in refused] == ["contact", "marketing"]
            wording = refused[0].wording
            assert wording.startswith("Done: Kestrel Coffee Works will not contact you")
            assert "{" not in wording and "support@kestrel.example" in wording
            entries = session.scalars(select(OutboxEntry)).all()
            assert entries and all(e.status == "dead" for e in entries)
            assert {e.last_error for e in entries} == {CANCELLED_BY_WITHDRAWAL}
            lead = lead_record(session, lead_id)
            assert lead is not None and not lead.contactable and not lead.marketing
        worker = OutboxWorker(engine, {}, RetryPolicy(max_attempts=2), batch_size=5)
        assert worker.drain(timeout=10).get("dead") == len(entries)  # nothing left to send
        assert hubspot.calls == []  # nothing reached the CRM


def test_withdrawal_after_delivery_sends_the_opt_out(
    tmp_path: Path, app_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    salesforce = SalesforceStandIn(TOKEN)
    with salesforce.running(), httpx.Client(timeout=5) as client:
        settings = make_settings(
            tmp_path / "data", app_url, crm="salesforce", salesforce_instance_url=salesforce.url,
            salesforce_access_token=TOKEN,
        )  # fmt: skip
        engine = get_engine(app_url)
        lead_id = capture(engine, settings, CHAT, EMAIL, NAME, PHONE)
        targets = {"crm:salesforce": SalesforceCRM(salesforce.url, TOKEN, client, "http://gw")}
        worker = OutboxWorker(engine, targets, RetryPolicy(max_attempts=2))
        worker.drain(timeout=10)
        assert salesforce.leads[lead_id]["HasOptedOutOfEmail"] is False

        _withdraw(engine, monkeypatch, CHAT)
        worker.drain(timeout=10)

        assert salesforce.leads[lead_id]["HasOptedOutOfEmail"] is True
        with session_scope(engine) as session:
            entry = session.scalars(select(OutboxEntry)).one()
            assert entry.status == "delivered" and entry.revision == 2


def test_a_conversation_without_contact_details_is_told_so(
    tmp_path: Path, app_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = get_engine(app_url)
    with session_scope(engine) as session:
        session.add(ContactRequest(sender_id="chat-x", email="x@y.example", topic="support"))
    messages = _withdraw(engine, monkeypatch, "chat-x")
    assert [m["response"] for m in messages] == ["utter_consent_withdrawn"]
    with session_scope(engine) as session:
        request = session.scalars(select(ContactRequest)).one()
        assert "consent_withdrawn_at" in request.details
    assert [m["response"] for m in _withdraw(engine, monkeypatch, "nobody")] == [
        "utter_consent_withdrawn_unknown"
    ]


def test_an_operator_retry_does_not_send_what_the_withdrawal_cancelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.storage.migrate import upgrade
    from core.storage.outbox import retry_dead
    from tests.integration.privacy.conftest import sqlite_url

    app_url = sqlite_url(tmp_path / "concierge.db")
    upgrade(app_url)
    hubspot = HubSpotStandIn(TOKEN)
    with hubspot.running(), httpx.Client(timeout=5) as client:
        settings = make_settings(
            tmp_path / "data", app_url, crm="hubspot", hubspot_token=TOKEN,
            hubspot_base_url=hubspot.url,
        )  # fmt: skip
        engine = get_engine(app_url)
        lead_id = capture(engine, settings, CHAT, EMAIL, NAME, PHONE)
        _withdraw(engine, monkeypatch, CHAT)
        with session_scope(engine) as session:
            assert retry_dead(session, lead_id) == 1  # `concierge leads retry`
        from bot.crm.hubspot import HubSpotCRM

        targets = {"crm:hubspot": HubSpotCRM(TOKEN, client, "http://gw", api_url=hubspot.url)}
        OutboxWorker(engine, targets, RetryPolicy(max_attempts=2)).drain(timeout=10)
    assert hubspot.calls == []
    with session_scope(engine) as session:
        entry = session.scalars(select(OutboxEntry)).one()
        assert entry.status == "dead" and entry.last_error == CANCELLED_BY_WITHDRAWAL
