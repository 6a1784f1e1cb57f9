"""Export and erasure of one person across every store and the CRM, on SQLite and PostgreSQL.

After the erasure every table of every database (the app's, Rasa's tracker store, the event
broker's) is searched for her email, name and phone: nothing may be found, while the other
customer's rows are all still there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.crm.hubspot import HubSpotCRM
from bot.crm.salesforce import SalesforceCRM
from bot.crm.webhook import WebhookCRM
from bot.services.privacy import (
    PrivacyError,
    PrivacyStores,
    erase_subject,
    export_subject,
    preview_erasure,
)
from core.storage import session_scope
from core.storage.models import Lead, OutboxEntry, Quote
from core.storage.privacy import PrivacyRequest, subject_ref
from tests.integration.privacy.conftest import (
    CHAT,
    EMAIL,
    KEY,
    NAME,
    OTHER_CHAT,
    OTTO_EMAIL,
    PHONE,
    SOMEONE_ELSE,
    World,
    find_needles,
    make_settings,
    seed_everywhere,
    sqlite_url,
)
from tests.support.crm_standins import (
    Failure,
    HubSpotStandIn,
    SalesforceStandIn,
    WebhookReceiver,
)

TOKEN = "pat-test-token"


def _world(tmp_path: Path, app_url: str, **crm: Any) -> World:
    data = tmp_path / "data"
    return World(
        settings=make_settings(data, app_url, **crm),
        app_url=app_url,
        tracker_path=tmp_path / "rasa-tracker.db",
        broker_path=tmp_path / "rasa-events.db",
    )


def _stores(world: World) -> PrivacyStores:
    return PrivacyStores(
        app_url=world.app_url,
        tracker_url=sqlite_url(world.tracker_path),
        broker_url=sqlite_url(world.broker_path),
    )


def _all_stores(world: World) -> list[str]:
    return [world.app_url, sqlite_url(world.tracker_path), sqlite_url(world.broker_path)]


def test_export_then_erase_leaves_nothing_in_any_store(tmp_path: Path, app_url: str) -> None:
    hubspot = HubSpotStandIn(TOKEN)
    with hubspot.running():
        world = _world(
            tmp_path, app_url, crm="hubspot", hubspot_token=TOKEN, hubspot_base_url=hubspot.url
        )
        lead_id = seed_everywhere(world)
        assert len(hubspot.contacts) == 2 and len(hubspot.deals) == 2 and hubspot.notes
        before = sum(len(find_needles(url)) for url in _all_stores(world))
        assert before > 10  # she is everywhere: the search itself works

        document = export_subject(_stores(world), KEY, EMAIL, requested_by="cli")

        assert document["format"] == "concierge.privacy.export" and document["found"]
        assert document["contact"]["email_normalized"] == EMAIL.lower()
        assert document["contact"]["phone"] == PHONE
        assert set(document["conversations"]) == {CHAT, OTHER_CHAT}
        assert [lead["id"] for lead in document["leads"]] == [lead_id]
        assert {c["purpose"] for c in document["consents"]} == {"contact", "marketing"}
        assert len(document["quotes"]) == 1 and document["quotes"][0]["total"] == "2118.20"
        assert document["feedback"][0]["rating"] == "down"
        delivery = document["crm_deliveries"][0]
        assert delivery["kind"] == "crm:hubspot" and delivery["status"] == "delivered"
        assert delivery["attempts_made"] and delivery["progress"]["contact_id"]
        app = document["stores"]["app"]
        for table in ("handoffs", "handoff_transitions", "handoff_requests", "contact_requests",
                      "kb_answers", "conversation_events", "contact_conversations"):  # fmt: skip
            assert app.get(table), table
        tracker = document["stores"]["rasa_tracker"]["events"]
        assert {e["sender_id"] for e in tracker} == {CHAT, OTHER_CHAT}
        assert any(e["data"].get("text") == EMAIL for e in tracker)  # parsed JSON, not a string
        assert {e["sender_id"] for e in document["stores"]["rasa_event_broker"]["events"]} == {
            CHAT,
            OTHER_CHAT,
        }
        assert OTTO_EMAIL not in str(document) and SOMEONE_ELSE not in str(document)

        with httpx.Client(timeout=5) as client:
            crm = HubSpotCRM(TOKEN, client, "http://gateway", api_url=hubspot.url)
            report = erase_subject(
                _stores(world), KEY, EMAIL, requested_by="cli",
                adapter_for=lambda target: crm if target == "crm:hubspot" else None,
            )  # fmt: skip

        assert report.status == "done", report.crm
        assert [(o.target, o.status) for o in report.crm] == [("crm:hubspot", "erased")]
        assert report.counts["app"]["contacts"] == 1 and report.counts["app"]["leads"] == 1
        assert report.counts["rasa_tracker"]["events"] > 0
        assert report.counts["rasa_event_broker"]["events"] > 0
        # the CRM: her contact GDPR-deleted, her deal and note gone; Otto's untouched
        assert list(hubspot.contacts) == [OTTO_EMAIL]
        assert len(hubspot.deals) == 1 and len(hubspot.gdpr_deleted) == 1
        assert all(NAME not in str(note) for note in hubspot.notes)

    for url in _all_stores(world):
        assert find_needles(url) == [], url
    # Otto is all still there
    assert find_needles(world.app_url, (OTTO_EMAIL, "Otto Normal"))
    assert find_needles(sqlite_url(world.tracker_path), (OTTO_EMAIL,))
    with session_scope(world.engine) as session:
        assert session.scalar(select(Lead.id).where(Lead.id == lead_id)) is None
        assert session.scalars(select(OutboxEntry.lead_id)).all() != []  # Otto's delivery
        kept = session.scalars(select(Quote).where(Quote.conversation_id == "erased")).all()
        assert len(kept) == 1 and kept[0].lead_id is None  # revenue kept, person gone
        request = session.scalars(select(PrivacyRequest)).all()
        assert [(r.kind, r.status) for r in request] == [("export", "done"), ("erase", "done")]
        assert all(r.subject_ref == subject_ref(KEY, EMAIL) for r in request)
        assert EMAIL.lower() not in str([(r.counts, r.subject_ref) for r in request]).lower()

    # a second export finds nothing but the record of what was done
    again = export_subject(_stores(world), KEY, EMAIL.upper(), requested_by="cli")
    assert not again["found"] and again["contact"] is None
    assert [r["kind"] for r in again["privacy_requests"]] == ["export", "erase"]


def test_a_failing_crm_is_reported_recorded_and_retried_by_the_next_erasure(
    tmp_path: Path, app_url: str
) -> None:
    salesforce = SalesforceStandIn(TOKEN)
    with salesforce.running(), httpx.Client(timeout=5) as client:
        world = _world(
            tmp_path, app_url, crm="salesforce", salesforce_instance_url=salesforce.url,
            salesforce_access_token=TOKEN,
        )  # fmt: skip
        seed_everywhere(world)
        assert len(salesforce.leads) == 2
        crm = SalesforceCRM(salesforce.url, TOKEN, client, "http://gateway")

        def adapter_for(target: str) -> SalesforceCRM | None:
            return crm if target == "crm:salesforce" else None

        salesforce.fail_next(Failure(status=503))
        first = erase_subject(
            _stores(world), KEY, EMAIL, requested_by="cli", adapter_for=adapter_for
        )

        assert first.status == "partial" and first.crm_failed
        assert first.crm[0].status == "failed" and "503" in (first.crm[0].detail or "")
        assert len(salesforce.leads) == 2  # still in the CRM...
        for url in _all_stores(world):
            assert find_needles(url) == [], url  # ...but gone from every store here
        with session_scope(world.engine) as session:
            row = session.scalars(select(PrivacyRequest)).one()
            assert row.status == "partial" and row.counts["crm_pending"][0]["crm_id"]

        second = erase_subject(
            _stores(world), KEY, EMAIL, requested_by="cli", adapter_for=adapter_for
        )

        assert second.status == "done"
        assert [(o.target, o.status) for o in second.crm] == [("crm:salesforce", "erased")]
        assert len(salesforce.leads) == 1 and len(salesforce.deleted) == 1
        with session_scope(world.engine) as session:
            statuses = session.scalars(
                select(PrivacyRequest.status).order_by(PrivacyRequest.created_at)
            ).all()
            assert statuses == ["retried", "done"]

        third = erase_subject(
            _stores(world), KEY, EMAIL, requested_by="cli", adapter_for=adapter_for
        )
        assert third.status == "done" and third.crm == ()


def test_already_gone_from_the_crm_counts_as_erased(tmp_path: Path) -> None:
    app_url = sqlite_url(tmp_path / "concierge.db")
    from core.storage.migrate import upgrade

    upgrade(app_url)
    salesforce = SalesforceStandIn(TOKEN)
    with salesforce.running(), httpx.Client(timeout=5) as client:
        world = _world(
            tmp_path, app_url, crm="salesforce", salesforce_instance_url=salesforce.url,
            salesforce_access_token=TOKEN,
        )  # fmt: skip
        seed_everywhere(world)
        salesforce.leads.clear()  # someone deleted it in Salesforce already
        crm = SalesforceCRM(salesforce.url, TOKEN, client, "http://gateway")
        report = erase_subject(
            _stores(world), KEY, EMAIL, requested_by="cli", adapter_for=lambda _t: crm
        )
    assert report.status == "done"
    assert [o.status for o in report.crm] == ["not_found"]


def test_the_webhook_gets_a_signed_lead_erased_event(tmp_path: Path) -> None:
    app_url = sqlite_url(tmp_path / "concierge.db")
    from core.storage.migrate import upgrade

    upgrade(app_url)
    receiver = WebhookReceiver("whsec-test")
    with receiver.running(), httpx.Client(timeout=5) as client:
        world = _world(
            tmp_path, app_url, crm="webhook", crm_webhook_url=receiver.url,
            crm_webhook_secret="whsec-test",
        )  # fmt: skip
        lead_id = seed_everywhere(world)
        assert len(receiver.records) == 2
        crm = WebhookCRM(receiver.url, "whsec-test", client, "http://gateway")
        report = erase_subject(
            _stores(world), KEY, EMAIL, requested_by="cli", adapter_for=lambda _t: crm
        )
    assert report.status == "done" and receiver.rejected == 0
    assert receiver.erased == [lead_id]
    assert len(receiver.records) == 1 and EMAIL not in str(receiver.records)


def test_preview_changes_nothing_and_a_bad_email_is_refused(tmp_path: Path) -> None:
    app_url = sqlite_url(tmp_path / "concierge.db")
    from core.storage.migrate import upgrade

    upgrade(app_url)
    world = _world(tmp_path, app_url)
    seed_everywhere(world)
    preview = preview_erasure(_stores(world), EMAIL)
    assert preview["found"] and preview["conversations"] == 2
    assert preview["counts"]["app"]["leads"] == 1
    assert find_needles(world.app_url)  # still there
    with pytest.raises(PrivacyError):
        preview_erasure(_stores(world), "not an email")


def test_every_table_is_either_searched_or_known_to_hold_no_customer_data(tmp_path: Path) -> None:
    """A new table must be classified here (and in docs/privacy.md) before it ships."""
    from sqlalchemy import inspect

    from bot.services.privacy_stores import CONVERSATION_COLUMNS, ERASE_ORDER, NOT_PERSONAL
    from core.storage import get_engine
    from core.storage.migrate import upgrade

    url = sqlite_url(tmp_path / "concierge.db")
    upgrade(url)
    tables = set(inspect(get_engine(url)).get_table_names())
    covered = set(CONVERSATION_COLUMNS) | set(ERASE_ORDER) | {"quotes"}
    assert tables - covered - NOT_PERSONAL == set()


def test_the_stores_follow_the_settings(tmp_path: Path) -> None:
    from bot.services.privacy import stores_for

    data = tmp_path / "data"
    data.mkdir()
    bare = stores_for(make_settings(data, sqlite_url(tmp_path / "app.db")))
    assert bare.tracker_url is None and bare.broker_url is None  # nothing there: not reached
    (data / "rasa-tracker.db").touch()
    (data / "rasa-events.db").touch()
    found = stores_for(make_settings(data, sqlite_url(tmp_path / "app.db")))
    assert found.tracker_url == sqlite_url(data / "rasa-tracker.db")
    assert found.broker_url == sqlite_url(data / "rasa-events.db")
    server = "postgresql+psycopg://rasa@db/events"
    pointed = stores_for(
        make_settings(data, sqlite_url(tmp_path / "app.db"), events_broker_url=server)
    )
    assert pointed.broker_url == server
