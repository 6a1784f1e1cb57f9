"""The unanswered-questions loop: queued from every origin, grouped, answered, replayed.

Declined answers, thumbs-down feedback, handoffs for lack of an answer and fallback turns of
``app_events`` are written as the action server, gateway and event feed write them; the
queue groups paraphrases by embedding; answering writes an FAQ entry, indexes it at once and
adds a regression case that ``concierge kb eval`` replays.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import yaml

from bot.services.unanswered import UnansweredQueue
from core.storage import session_scope
from core.storage.handoff import Handoff
from core.storage.models import Feedback, KBAnswer, new_id
from knowledge import cli as kb_cli
from knowledge.eval import EvalCase, cases_path, load_cases, run_cases
from tests.integration.knowledge_console.conftest import Console

LOYALTY = "Do you have a loyalty program?"
LOYALTY_AGAIN = "do you have a loyalty program ??"
LOYALTY_PARAPHRASE = "Is there a loyalty program for regular customers?"
BITCOIN = "Can I pay with bitcoin?"
EVENTS = sa.table(
    "app_events",
    sa.column("event_key", sa.String),
    sa.column("conversation_id", sa.String),
    sa.column("channel", sa.String),
    sa.column("type", sa.String),
    sa.column("name", sa.String),
    sa.column("text", sa.Text),
    sa.column("timestamp", sa.DateTime(timezone=True)),
    sa.column("data", sa.JSON),
    sa.column("recorded_at", sa.DateTime(timezone=True)),
)


def declined(console: Console, conversation: str, question: str) -> str:
    answer_id = new_id()
    with session_scope(console.engine) as session:
        session.add(
            KBAnswer(
                id=answer_id,
                sender_id=conversation,
                channel="web",
                question=question,
                answer=None,
                confidence=0.1,
            )
        )
    return answer_id


def thumbs_down(console: Console, conversation: str, question: str) -> None:
    answer_id = new_id()
    with session_scope(console.engine) as session:
        session.add(
            KBAnswer(
                id=answer_id,
                sender_id=conversation,
                channel="telegram",
                question=question,
                answer="Something unhelpful.",
                confidence=0.6,
            )
        )
        session.flush()
        session.add(
            Feedback(
                answer_id=answer_id,
                sender_id=conversation,
                rating="down",
                question=question,
                answer="Something unhelpful.",
            )
        )


def fallback_turn(console: Console, conversation: str, text: str) -> None:
    start = datetime.now(UTC)
    rows = [
        ("action", "utter_greet", None),
        ("action", "action_listen", None),
        ("user", "nlu_fallback", text),
        ("action", "action_answer_question", None),
        ("action", "action_two_stage_fallback", None),
        ("action", "action_listen", None),
        ("user", "nlu_fallback", "hm"),
        ("action", "action_two_stage_fallback", None),
        ("action", "action_default_fallback", None),
    ]
    with console.engine.begin() as connection:
        for offset, (kind, name, said) in enumerate(rows):
            at = start + timedelta(seconds=offset)
            connection.execute(
                EVENTS.insert().values(
                    event_key=new_id(),
                    conversation_id=conversation,
                    channel="web",
                    type=kind,
                    name=name,
                    text=said,
                    timestamp=at,
                    data={},
                    recorded_at=at,
                )
            )


def test_every_origin_is_queued_once_and_paraphrases_are_grouped(console: Console) -> None:
    declined(console, "c1", LOYALTY)
    declined(console, "c1", LOYALTY_AGAIN)  # the same question again in one conversation
    thumbs_down(console, "c2", LOYALTY_PARAPHRASE)
    with session_scope(console.engine) as session:
        session.add(
            Handoff(conversation_id="c3", channel="web", reason="fallback", summary=BITCOIN)
        )
        session.add(
            Handoff(conversation_id="c4", channel="web", reason="customer_request", summary="human")
        )
    fallback_turn(console, "c5", "Can I pay by bitcoin, please?")

    queue = UnansweredQueue(console.engine, console.kb, console.settings.data_dir)
    assert queue.collect() == 4
    assert queue.collect() == 0  # nothing is queued twice
    groups = {g.question: g for g in queue.groups()}
    assert set(groups) == {LOYALTY, BITCOIN}, groups
    loyalty = groups[LOYALTY]
    assert loyalty.count == 2 and loyalty.reasons == ["no_answer", "thumbs_down"]
    assert {i.conversation_id for i in loyalty.items} == {"c1", "c2"}
    assert {i.channel for i in loyalty.items} == {"web", "telegram"}
    bitcoin = groups[BITCOIN]
    assert bitcoin.reasons == ["fallback", "handoff"]
    assert "Can I pay by bitcoin, please?" in {i.question for i in bitcoin.items}
    assert bitcoin.latest_at >= loyalty.items[-1].created_at


def test_answering_a_group_makes_the_bot_answer_and_adds_a_case(console: Console) -> None:
    declined(console, "c1", LOYALTY)
    thumbs_down(console, "c2", LOYALTY_PARAPHRASE)
    groups = console.client.get("/api/admin/unanswered").json()
    assert len(groups) == 1 and groups[0]["count"] == 2
    group = groups[0]
    before = console.kb.ask(LOYALTY)
    assert not before.answered

    answer = "Yes: every 10th bag of beans is free with the Kestrel Club card, free to join."
    response = console.client.post(
        f"/api/admin/unanswered/{group['id']}/answer",
        headers=console.headers(),
        json={"question": LOYALTY, "answer": answer},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "answered" and body["resolved"] == 2 and body["case_added"]
    location = body["location"]
    assert location.startswith("answers.csv#ua-")
    assert body["result"]["answered"] and body["result"]["reply"] == answer
    assert body["result"]["chunks"][0]["location"] == location

    rows = list(csv.DictReader((console.content / "answers.csv").open(encoding="utf-8")))
    assert rows == [{"id": location.split("#")[1], "question": LOYALTY, "answer": answer}]
    assert load_cases(cases_path(console.content)) == [EvalCase(LOYALTY, location)]
    assert console.client.get("/api/admin/unanswered").json() == []  # it left the queue
    assert all(r.passed for r in run_cases(console.kb, load_cases(cases_path(console.content))))

    again = console.client.post(
        f"/api/admin/unanswered/{group['id']}/answer",
        headers=console.headers(),
        json={"question": LOYALTY, "answer": answer},
    )
    assert again.status_code == 404


def test_kb_eval_passes_then_fails_when_the_answer_is_gone(
    console: Console, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    declined(console, "c1", LOYALTY)
    group = console.client.get("/api/admin/unanswered").json()[0]
    console.client.post(
        f"/api/admin/unanswered/{group['id']}/answer",
        headers=console.headers(),
        json={"question": LOYALTY, "answer": "Yes, the Kestrel Club: every 10th bag is free."},
    )
    monkeypatch.setattr(kb_cli, "_knowledge_base", lambda settings: console.kb)
    monkeypatch.setenv("CONCIERGE_CONTENT_DIR", str(console.content))
    monkeypatch.setenv("CONCIERGE_DATA_DIR", str(console.settings.data_dir))
    from core.config import get_settings

    get_settings.cache_clear()
    try:
        assert kb_cli.main(["kb", "eval"]) == 0
        assert "1 of 1 cases pass." in capsys.readouterr().out
        console.kb.remove("answers.csv")
        assert kb_cli.main(["kb", "eval"]) == 1
        out = capsys.readouterr().out
        assert "FAIL 'Do you have a loyalty program?' -> answers.csv#ua-" in out
        assert "0 of 1 cases pass." in out
    finally:
        get_settings.cache_clear()


def test_link_names_an_indexed_section_or_refuses(console: Console) -> None:
    declined(console, "c1", "How long do refunds take?")
    group = console.client.get("/api/admin/unanswered").json()[0]
    url = f"/api/admin/unanswered/{group['id']}/link"
    missing = console.client.post(url, headers=console.headers(), json={"location": "docs/x.md"})
    assert missing.status_code == 422 and "no indexed source" in missing.json()["error"]
    section = console.client.post(
        url, headers=console.headers(), json={"location": "docs/returns.md#no-such-heading"}
    )
    assert section.status_code == 422 and "no section" in section.json()["error"]
    linked = console.client.post(
        url, headers=console.headers(), json={"location": "docs/returns.md"}
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["status"] == "linked" and linked.json()["case_added"]
    cases = yaml.safe_load(cases_path(console.content).read_text())["cases"]
    assert cases == [{"question": "How long do refunds take?", "expect": "docs/returns.md"}]


def test_dismiss_drops_the_group_without_a_case(console: Console) -> None:
    declined(console, "c1", "asdf qwerty")
    group = console.client.get("/api/admin/unanswered").json()[0]
    response = console.client.post(
        f"/api/admin/unanswered/{group['id']}/dismiss", headers=console.headers()
    )
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    assert console.client.get("/api/admin/unanswered").json() == []
    assert not cases_path(console.content).exists()
    declined(console, "c1", "asdf qwerty")  # asked again in the same conversation: still seen
    assert console.client.get("/api/admin/unanswered").json() == []


def test_answers_are_checked(console: Console) -> None:
    declined(console, "c1", LOYALTY)
    group = console.client.get("/api/admin/unanswered").json()[0]
    url = f"/api/admin/unanswered/{group['id']}/answer"
    blank = console.client.post(
        url, headers=console.headers(), json={"question": LOYALTY, "answer": "  "}
    )
    assert blank.status_code == 422
    long = console.client.post(
        url, headers=console.headers(), json={"question": LOYALTY, "answer": "x" * 2001}
    )
    assert long.status_code == 422
    no_csrf = console.client.post(url, json={"question": LOYALTY, "answer": "Yes."})
    assert no_csrf.status_code == 403
    assert console.client.get("/api/admin/unanswered").json()[0]["id"] == group["id"]


def test_the_loop_on_postgresql(pg_console: Console) -> None:
    console = pg_console
    assert console.engine.dialect.name == "postgresql"
    declined(console, "c1", LOYALTY)
    thumbs_down(console, "c2", LOYALTY_PARAPHRASE)
    with session_scope(console.engine) as session:
        session.add(
            Handoff(conversation_id="c3", channel="web", reason="fallback", summary=BITCOIN)
        )
    fallback_turn(console, "c4", "Can I pay by bitcoin, please?")
    groups = {g["question"]: g for g in console.client.get("/api/admin/unanswered").json()}
    assert {q: g["count"] for q, g in groups.items()} == {LOYALTY: 2, BITCOIN: 2}
    response = console.client.post(
        f"/api/admin/unanswered/{groups[LOYALTY]['id']}/answer",
        headers=console.headers(),
        json={"question": LOYALTY, "answer": "Yes, the Kestrel Club: every 10th bag is free."},
    )
    assert response.status_code == 200 and response.json()["resolved"] == 2
    assert response.json()["result"]["answered"]
    remaining = console.client.get("/api/admin/unanswered").json()
    assert [g["question"] for g in remaining] == [BITCOIN]
