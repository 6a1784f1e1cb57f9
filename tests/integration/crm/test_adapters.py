"""Each CRM adapter and notifier against a local stand-in of its service, errors included."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.crm.base import Delivery, DeliveryError
from bot.crm.hubspot import HubSpotCRM
from bot.crm.salesforce import SalesforceCRM
from bot.crm.signing import signature, verify
from bot.crm.webhook import WebhookCRM
from bot.notify.telegram import TelegramNotifier
from core.config import Settings
from tests.support.crm_standins import (
    Failure,
    HubSpotStandIn,
    SalesforceStandIn,
    TelegramStandIn,
    WebhookReceiver,
)

BASE = "https://chat.example.com"


def settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


def delivery(key: str = "lead-x-crm-r1") -> Delivery:
    return Delivery(idempotency_key=key, attempt=1)


@pytest.fixture
def client():  # type: ignore[no-untyped-def]
    with httpx.Client(timeout=1.0) as http:
        yield http


# --- webhook ------------------------------------------------------------------------------


def test_webhook_posts_a_signed_body_the_receiver_verifies(sqlite_engine, capture, client) -> None:  # type: ignore[no-untyped-def]
    lead = capture(sqlite_engine, settings())
    with WebhookReceiver("s3cret").running() as receiver:
        adapter = WebhookCRM(receiver.url + "/hooks/leads", "s3cret", client, BASE)
        result = adapter.deliver(lead, delivery("key-1"))
        again = adapter.deliver(lead, delivery("key-1"))
    assert result.crm_id == again.crm_id == "rec-1"
    assert receiver.deliveries == 2 and len(receiver.records) == 1
    event = receiver.records["key-1"]["event"]
    assert event["event"] == "lead.upserted" and event["idempotency_key"] == "key-1"
    sent = event["lead"]
    assert sent["email"] == "buyer1@example.com"
    assert sent["score"] == lead.score and sent["grade"] == lead.grade
    assert sent["quotes"][0]["number"] == lead.quotes[0].number
    assert sent["quotes"][0]["url"].startswith(f"{BASE}/quotes/")
    assert sent["consents"][0]["wording"].startswith("May our sales team")


def test_a_wrong_secret_is_refused_by_the_receiver_and_dead_lettered(
    sqlite_engine, capture, client
) -> None:  # type: ignore[no-untyped-def]
    lead = capture(sqlite_engine, settings())
    with WebhookReceiver("right").running() as receiver, pytest.raises(DeliveryError) as caught:
        WebhookCRM(receiver.url, "wrong", client, BASE).deliver(lead, delivery())
    assert caught.value.status_code == 401 and not caught.value.retryable
    assert receiver.rejected == 1 and receiver.records == {}


def test_signature_is_hmac_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    body = b'{"a":1}'
    expected = hmac.new(b"k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature("k", "1700000000", body) == f"sha256={expected}"
    headers = {"X-Concierge-Timestamp": "1700000000", "X-Concierge-Signature": f"sha256={expected}"}
    assert verify("k", headers, body, now=1700000100)
    assert not verify("k", headers, body + b" ", now=1700000100)
    assert not verify("k", headers, body, now=1700000000 + 301), "an old timestamp is a replay"
    assert not verify("other", headers, body, now=1700000100)


@pytest.mark.parametrize(
    ("failure", "retryable", "retry_after"),
    [
        (Failure(status=500), True, None),
        (Failure(status=503, headers={"Retry-After": "7"}), True, 7.0),
        (Failure(status=429, headers={"Retry-After": "12"}), True, 12.0),
        (Failure(status=409), True, None),
        (Failure(status=400, body={"error": "missing field"}), False, None),
        (Failure(status=404), False, None),
        (Failure(hang=1.5), True, None),
    ],
)
def test_webhook_failures_are_classified(  # type: ignore[no-untyped-def]
    sqlite_engine, capture, client, failure, retryable, retry_after
) -> None:
    lead = capture(sqlite_engine, settings())
    with WebhookReceiver("s").running() as receiver:
        receiver.fail_next(failure)
        with pytest.raises(DeliveryError) as caught:
            WebhookCRM(receiver.url, "s", client, BASE).deliver(lead, delivery())
    assert caught.value.retryable is retryable
    assert caught.value.retry_after == retry_after
    if failure.hang:
        assert "in time" in caught.value.reason
    else:
        assert caught.value.status_code == failure.status


# --- HubSpot ------------------------------------------------------------------------------


def test_hubspot_upserts_contact_and_deal_associates_and_adds_a_note(
    sqlite_engine, capture, client
) -> None:  # type: ignore[no-untyped-def]
    lead = capture(sqlite_engine, settings())
    with HubSpotStandIn("pat-1").running() as hubspot:
        adapter = HubSpotCRM("pat-1", client, BASE, api_url=hubspot.url)
        first = adapter.deliver(lead, delivery("k1"))
        # The same lead again (a later change): still one contact and one deal.
        second = adapter.deliver(lead, delivery("k2"))
    assert first.crm_id == second.crm_id
    assert list(hubspot.contacts) == ["buyer1@example.com"]
    contact = hubspot.contacts["buyer1@example.com"]
    assert contact["properties"]["firstname"] == "Dana"
    assert contact["properties"]["jobtitle"] == "Office Manager"
    (deal,) = hubspot.deals.values()
    assert deal["properties"]["concierge_lead_id"] == lead.id
    assert deal["properties"]["amount"] == str(lead.quotes[0].total)
    assert hubspot.associations == {(deal["id"], contact["id"])}
    assert len(hubspot.notes) == 2
    note = hubspot.notes[0]
    assert lead.quotes[0].number in note["properties"]["hs_note_body"]
    assert {a["types"][0]["associationTypeId"] for a in note["associations"]} == {202, 214}


def test_hubspot_retry_skips_the_steps_already_done(sqlite_engine, capture, client) -> None:  # type: ignore[no-untyped-def]
    lead = capture(sqlite_engine, settings())
    saved: list[dict[str, object]] = []
    with HubSpotStandIn("pat-1").running() as hubspot:
        adapter = HubSpotCRM("pat-1", client, BASE, api_url=hubspot.url)
        # The contact and deal upserts pass, the association's answer is lost (applied, 503).
        original = hubspot._next_failure
        count = {"n": 0}

        def third_fails() -> Failure | None:
            count["n"] += 1
            return Failure(status=503, after_write=True) if count["n"] == 3 else original()

        hubspot._next_failure = third_fails  # type: ignore[method-assign]
        with pytest.raises(DeliveryError):
            adapter.deliver(lead, Delivery("k1", 1, save_progress=saved.append))
        assert set(saved[-1]) == {"contact_id", "deal_id"}
        retry = Delivery("k1", 2, progress=dict(saved[-1]), save_progress=saved.append)
        adapter.deliver(lead, retry)
        # A third run (say the worker died before settling) writes no second note.
        adapter.deliver(lead, Delivery("k1", 3, progress=dict(saved[-1])))
    paths = [path for _method, path in hubspot.calls]
    assert paths.count("/crm/v3/objects/notes") == 1
    assert len(hubspot.notes) == 1 and len(hubspot.deals) == 1 and len(hubspot.contacts) == 1
    assert len(hubspot.associations) == 1


@pytest.mark.parametrize(
    ("failure", "retryable", "status"),
    [
        (Failure(status=429, headers={"Retry-After": "10"}), True, 429),
        (Failure(status=502), True, 502),
        (
            Failure(
                status=409, body={"status": "error", "message": "Conflict", "category": "CONFLICT"}
            ),
            True,
            409,
        ),
        (
            Failure(
                status=400,
                body={
                    "status": "error",
                    "message": "Property values were not valid",
                    "category": "VALIDATION_ERROR",
                },
            ),
            False,
            400,
        ),
    ],
)
def test_hubspot_errors(sqlite_engine, capture, client, failure, retryable, status) -> None:  # type: ignore[no-untyped-def]
    lead = capture(sqlite_engine, settings())
    with HubSpotStandIn("pat-1").running() as hubspot:
        hubspot.fail_next(failure)
        with pytest.raises(DeliveryError) as caught:
            HubSpotCRM("pat-1", client, BASE, api_url=hubspot.url).deliver(lead, delivery())
    assert (caught.value.retryable, caught.value.status_code) == (retryable, status)
    if status == 429:
        assert caught.value.retry_after == 10.0


def test_hubspot_bad_token_is_a_dead_letter_naming_the_token(
    sqlite_engine, capture, client
) -> None:  # type: ignore[no-untyped-def]
    lead = capture(sqlite_engine, settings())
    with HubSpotStandIn("pat-1").running() as hubspot, pytest.raises(DeliveryError) as caught:
        HubSpotCRM("wrong", client, BASE, api_url=hubspot.url).deliver(lead, delivery())
    assert not caught.value.retryable and caught.value.status_code == 401
    assert "token" in caught.value.reason
    assert hubspot.contacts == {}


# --- Salesforce ---------------------------------------------------------------------------


def test_salesforce_upserts_the_lead_by_external_id(sqlite_engine, capture, client) -> None:  # type: ignore[no-untyped-def]
    lead = capture(sqlite_engine, settings())
    with SalesforceStandIn("00D!tok").running() as salesforce:
        adapter = SalesforceCRM(salesforce.url, "00D!tok", client, BASE)
        created = adapter.deliver(lead, delivery())
        updated = adapter.deliver(lead, delivery())
        salesforce.answer_204_on_update = True
        read_back = adapter.deliver(lead, delivery())
    assert created.crm_id == updated.crm_id == read_back.crm_id
    assert list(salesforce.leads) == [lead.id]
    record = salesforce.leads[lead.id]
    assert (record["FirstName"], record["LastName"], record["Company"]) == (
        "Dana",
        "Buyer1",
        "Acme Offices",
    )
    assert record["Rating"] == lead.grade.capitalize() and record["LeadSource"] == "Chat"
    assert record["NumberOfEmployees"] == 40
    assert lead.quotes[0].number in record["Description"]


def test_salesforce_errors(sqlite_engine, capture, client) -> None:  # type: ignore[no-untyped-def]
    lead = capture(sqlite_engine, settings())
    with SalesforceStandIn("tok").running() as salesforce:
        adapter = SalesforceCRM(salesforce.url, "tok", client, BASE)
        with pytest.raises(DeliveryError) as unauthorized:
            SalesforceCRM(salesforce.url, "expired", client, BASE).deliver(lead, delivery())
        salesforce.duplicates.add(lead.id)
        with pytest.raises(DeliveryError) as several:
            adapter.deliver(lead, delivery())
        salesforce.duplicates.clear()
        salesforce.fail_next(
            Failure(
                status=403,
                body=[
                    {
                        "message": "TotalRequests Limit exceeded.",
                        "errorCode": "REQUEST_LIMIT_EXCEEDED",
                    }
                ],
            )
        )
        with pytest.raises(DeliveryError) as limited:
            adapter.deliver(lead, delivery())
        salesforce.fail_next(Failure(status=503, headers={"Retry-After": "30"}))
        with pytest.raises(DeliveryError) as unavailable:
            adapter.deliver(lead, delivery())
    assert not unauthorized.value.retryable and "INVALID_SESSION_ID" in unauthorized.value.reason
    assert not several.value.retryable and "several" in several.value.reason
    assert limited.value.retryable and limited.value.status_code == 403
    assert unavailable.value.retryable and unavailable.value.retry_after == 30.0


# --- Telegram -----------------------------------------------------------------------------


def test_telegram_sends_the_summary_and_honours_retry_after(sqlite_engine, capture, client) -> None:  # type: ignore[no-untyped-def]
    lead = capture(sqlite_engine, settings())
    with TelegramStandIn("123:ABC").running() as telegram:
        notifier = TelegramNotifier("123:ABC", "-1001", client, BASE, api_url=telegram.url)
        telegram.fail_next(Failure(status=429))
        with pytest.raises(DeliveryError) as limited:
            notifier.deliver(lead, delivery())
        result = notifier.deliver(lead, delivery())
        with pytest.raises(DeliveryError) as wrong_chat:
            TelegramNotifier("123:ABC", "-999", client, BASE, api_url=telegram.url).deliver(
                lead, delivery()
            )
    assert limited.value.retryable and limited.value.retry_after == 3.0
    assert result.crm_id == "1"
    text = telegram.messages[0]["text"]
    assert "Dana Buyer1" in text and "Acme Offices" in text and f"Score {lead.score}" in text
    assert lead.quotes[0].number in text and f"{BASE}/admin/leads/{lead.id}" in text
    assert not wrong_chat.value.retryable and "chat not found" in wrong_chat.value.reason
    assert json.dumps(telegram.messages)  # plain JSON, as the Bot API takes


# --- e-mail -------------------------------------------------------------------------------


def test_email_mails_the_summary_and_classifies_refusals(sqlite_engine, capture) -> None:  # type: ignore[no-untyped-def]
    from email import message_from_bytes

    from bot.notify.email import EmailNotifier
    from tests.support.crm_standins import SMTPStandIn

    lead = capture(sqlite_engine, settings())
    with SMTPStandIn(refuse=frozenset({"nobody@example.com"})).running() as smtp:

        def notifier(*to: str) -> EmailNotifier:
            return EmailNotifier(
                "127.0.0.1", smtp.port, "bot@example.com", to, BASE, starttls=False, timeout=2
            )

        result = notifier("sales@example.com").deliver(lead, delivery("k-mail"))
        with pytest.raises(DeliveryError) as refused:
            notifier("nobody@example.com").deliver(lead, delivery())
        smtp.busy = True
        with pytest.raises(DeliveryError) as busy:
            notifier("sales@example.com").deliver(lead, delivery())
    (sender, recipients, raw) = smtp.messages[0]
    assert (sender, recipients) == ("bot@example.com", ["sales@example.com"])
    mail = message_from_bytes(raw)
    assert mail["Subject"] == f"Hot lead: Dana Buyer1 (Acme Offices), score {lead.score}"
    assert "k-mail" in (result.crm_id or "")
    assert lead.quotes[0].number in mail.get_payload()
    assert not refused.value.retryable
    assert busy.value.retryable and busy.value.status_code == 421
