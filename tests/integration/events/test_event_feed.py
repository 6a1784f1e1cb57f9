"""The worker's event feed on a broker table shaped like Rasa's SQL event broker's.

Rasa's ``SQLEventBroker`` (rasa/core/brokers/sql.py) writes one row per event into ``events``
(``id`` integer key, ``sender_id``, ``data`` = the event's JSON with ``sender_id``); these tests
write rows the same way and check the copy in ``app_events`` on SQLite and PostgreSQL. The
end-to-end test (tests/e2e/test_conversations_console.py) does the same with the real Rasa.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.workers.events import SQL_BROKER_SOURCE, EventFeed, SqlBrokerTable
from core.storage import get_engine, session_scope
from core.storage.app_events import AppEvent, cursor_position, event_key
from core.storage.migrate import upgrade
from tests.support.postgres import temporary_database


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated app database of each supported engine."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'concierge.db'}"
        upgrade(url)
        yield get_engine(url)
    else:
        with temporary_database() as url:
            upgrade(url)
            yield get_engine(url)


class Broker:
    """Writes events the way Rasa's SQL event broker does."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with sqlite3.connect(path) as db:
            db.execute(
                "CREATE TABLE events (id INTEGER NOT NULL PRIMARY KEY, sender_id VARCHAR(255),"
                " data TEXT)"
            )

    def publish(self, event: dict[str, Any]) -> None:
        with sqlite3.connect(self.path) as db:
            db.execute(
                "INSERT INTO events (sender_id, data) VALUES (?, ?)",
                (event.get("sender_id"), json.dumps(event)),
            )

    def raw(self, sender_id: str | None, data: str) -> None:
        with sqlite3.connect(self.path) as db:
            db.execute("INSERT INTO events (sender_id, data) VALUES (?, ?)", (sender_id, data))


def conversation(sender: str, channel: str, start: float) -> list[dict[str, Any]]:
    """The events Rasa publishes for one short turn (session start, user, actions, bot)."""
    return [
        {
            "sender_id": sender,
            "event": "action",
            "timestamp": start,
            "name": "action_session_start",
            "policy": None,
            "confidence": 1.0,
        },
        {"sender_id": sender, "event": "session_started", "timestamp": start + 0.01},
        {
            "sender_id": sender,
            "event": "user",
            "timestamp": start + 0.1,
            "text": "Do you ship to Norway?",
            "input_channel": channel,
            "message_id": f"{sender}-m1",
            "parse_data": {"intent": {"name": "faq_shipping", "confidence": 0.87}, "entities": []},
            "metadata": {},
        },
        {
            "sender_id": sender,
            "event": "user_featurization",
            "timestamp": start + 0.2,
            "use_text_for_featurization": False,
        },
        {
            "sender_id": sender,
            "event": "action",
            "timestamp": start + 0.3,
            "name": "action_answer_question",
            "policy": "RulePolicy",
            "confidence": 1.0,
        },
        {
            "sender_id": sender,
            "event": "bot",
            "timestamp": start + 0.4,
            "text": "Yes, in 5-8 days.",
            "data": {},
            "metadata": {"utter_action": "utter_x"},
        },
        {
            "sender_id": sender,
            "event": "action",
            "timestamp": start + 0.5,
            "name": "action_listen",
            "policy": "RulePolicy",
            "confidence": 1.0,
        },
    ]


def rows(engine: Engine) -> list[AppEvent]:
    with session_scope(engine) as session:
        found = list(session.scalars(select(AppEvent).order_by(AppEvent.id)))
        session.expunge_all()
    return found


def test_copies_every_event_in_order_with_its_channel(engine: Engine, tmp_path: Path) -> None:
    broker = Broker(tmp_path / "rasa-events.db")
    for event in conversation("alice", "web", 1_800_000_000.0):
        broker.publish(event)
    feed = EventFeed(engine, SqlBrokerTable(broker.path), batch_size=3)
    stats = feed.drain()
    assert (stats.read, stats.inserted) == (7, 7)
    copied = rows(engine)
    assert [r.type for r in copied] == [
        "action", "session_started", "user", "user_featurization", "action", "bot", "action",
    ]  # fmt: skip
    user = copied[2]
    assert (user.text, user.name, user.confidence) == (
        "Do you ship to Norway?",
        "faq_shipping",
        0.87,
    )
    assert copied[4].name == "action_answer_question" and copied[4].text is None
    # the channel comes from the user event and is carried to the conversation's later events
    assert [r.channel for r in copied] == [None, None, "web", "web", "web", "web", "web"]
    assert copied[5].data["metadata"] == {"utter_action": "utter_x"}
    assert "sender_id" not in copied[5].data
    assert copied[5].timestamp.timestamp() == pytest.approx(1_800_000_000.4)
    with session_scope(engine) as session:
        assert cursor_position(session, SQL_BROKER_SOURCE) == "7"


def test_a_replay_or_a_restarted_worker_inserts_nothing_twice(
    engine: Engine, tmp_path: Path
) -> None:
    broker = Broker(tmp_path / "rasa-events.db")
    for event in conversation("alice", "web", 1_800_000_000.0):
        broker.publish(event)
    EventFeed(engine, SqlBrokerTable(broker.path)).drain()
    first = [(r.id, r.event_key) for r in rows(engine)]
    # a new worker process: a new feed object starting from the stored cursor
    restarted = EventFeed(engine, SqlBrokerTable(broker.path))
    assert restarted.run_once() == 0
    # the cursor is lost (or the broker replays everything): the same events are not copied again
    with session_scope(engine) as session:
        from core.storage.app_events import save_cursor

        save_cursor(session, SQL_BROKER_SOURCE, "0")
    replay = EventFeed(engine, SqlBrokerTable(broker.path))
    assert replay.drain().inserted == 0
    assert [(r.id, r.event_key) for r in rows(engine)] == first
    # Rasa publishing the very same event again (same content) is recognised too
    broker.publish(conversation("alice", "web", 1_800_000_000.0)[2])
    assert replay.drain().inserted == 0
    # ...while the next turn is new
    for event in conversation("alice", "web", 1_800_000_100.0)[2:]:
        broker.publish(event)
    assert replay.drain().inserted == 5
    assert len(rows(engine)) == 12


def test_the_channel_follows_the_conversation_across_batches(
    engine: Engine, tmp_path: Path
) -> None:
    broker = Broker(tmp_path / "rasa-events.db")
    events = conversation("bob", "telegram", 1_800_000_000.0)
    for event in events[:3]:
        broker.publish(event)
    EventFeed(engine, SqlBrokerTable(broker.path)).drain()
    for event in events[3:]:
        broker.publish(event)
    for event in conversation("carol", "rest", 1_800_000_001.0):
        broker.publish(event)
    EventFeed(engine, SqlBrokerTable(broker.path)).drain()
    channels = {(r.conversation_id, r.type, r.channel) for r in rows(engine) if r.type == "bot"}
    assert channels == {("bob", "bot", "telegram"), ("carol", "bot", "rest")}


def test_rows_that_are_not_events_are_skipped_and_logged_without_content(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker = Broker(tmp_path / "rasa-events.db")
    broker.raw("dave", "{not json, call me on +49 170 1234567")
    broker.raw("dave", json.dumps(["a", "list"]))
    broker.raw(None, json.dumps({"event": "user", "text": "no sender"}))
    broker.publish(
        {
            "sender_id": "dave",
            "event": "user",
            "timestamp": 1.0,
            "text": "mail me at dave@example.org",
            "input_channel": "web",
        }
    )
    with caplog.at_level("DEBUG", logger="bot.workers.events"):
        stats = EventFeed(engine, SqlBrokerTable(broker.path)).drain()
    assert (stats.read, stats.inserted) == (4, 1)
    assert [r.text for r in rows(engine)] == ["mail me at dave@example.org"]
    assert "dave@example.org" not in caplog.text and "1234567" not in caplog.text
    assert "dave" not in caplog.text  # conversations appear only as pseudonyms
    assert caplog.text.count("events.feed.skipped") == 3


def test_no_broker_file_yet_and_a_replaced_file(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "rasa-events.db"
    feed = EventFeed(engine, SqlBrokerTable(path))
    assert feed.run_once() == 0 and not path.exists()  # the feed never creates Rasa's file
    broker = Broker(path)
    for event in conversation("erin", "web", 1_800_000_000.0):
        broker.publish(event)
    assert feed.drain().inserted == 7
    path.unlink()  # a fresh broker file: its ids start again at 1
    broker = Broker(path)
    for event in conversation("frank", "web", 1_800_000_500.0)[:2]:
        broker.publish(event)
    assert feed.drain().inserted == 7 + 2  # the feed's counts add up since it started
    assert {r.conversation_id for r in rows(engine)} == {"erin", "frank"}


def test_two_workers_at_once_copy_each_event_once(engine: Engine, tmp_path: Path) -> None:
    broker = Broker(tmp_path / "rasa-events.db")
    for n in range(30):
        for event in conversation(f"user-{n}", "web", 1_800_000_000.0 + n):
            broker.publish(event)
    feeds = [EventFeed(engine, SqlBrokerTable(broker.path), batch_size=16) for _ in range(2)]
    errors: list[BaseException] = []

    def work(feed: EventFeed) -> None:
        try:
            for _ in range(200):
                if not feed.run_once():
                    break
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(feed,)) for feed in feeds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    feeds[0].drain()
    copied = rows(engine)
    assert len(copied) == 210
    assert len({r.event_key for r in copied}) == 210


def test_event_key_is_canonical() -> None:
    one = {"event": "bot", "text": "hi", "timestamp": 1.5, "data": {"a": 1, "b": 2}}
    same = {"data": {"b": 2, "a": 1}, "timestamp": 1.5, "text": "hi", "event": "bot"}
    assert event_key("x", one) == event_key("x", same)
    assert event_key("x", one) != event_key("y", one)
    assert len(event_key("x", one)) == 64


def test_the_gateways_channel_in_the_metadata_wins(engine: Engine, tmp_path: Path) -> None:
    # the gateway reaches Rasa through its REST webhook: input_channel is always "rest"
    broker = Broker(tmp_path / "rasa-events.db")
    user = conversation("gina", "rest", 1_800_000_000.0)[2]
    user["metadata"] = {"channel": "telegram"}
    broker.publish(user)
    broker.publish(conversation("gina", "rest", 1_800_000_000.0)[5])
    EventFeed(engine, SqlBrokerTable(broker.path)).drain()
    assert [(r.type, r.channel) for r in rows(engine)] == [
        ("user", "telegram"),
        ("bot", "telegram"),
    ]


def test_a_broker_table_in_postgresql(tmp_path: Path) -> None:
    # Rasa's SQL event broker with dialect postgresql: the same table in a server database
    from sqlalchemy import create_engine, text

    from bot.workers.events import SqlBrokerDatabase

    app_url = f"sqlite:///{tmp_path / 'concierge.db'}"
    upgrade(app_url)
    with temporary_database() as broker_url:
        source = SqlBrokerDatabase(broker_url)
        feed = EventFeed(get_engine(app_url), source)
        assert feed.run_once() == 0  # Rasa has not created its table yet
        broker = create_engine(broker_url)
        with broker.begin() as db:
            db.execute(
                text(
                    "CREATE TABLE events (id SERIAL PRIMARY KEY, sender_id VARCHAR(255), data TEXT)"
                )
            )
            for event in conversation("hana", "web", 1_800_000_000.0):
                db.execute(
                    text("INSERT INTO events (sender_id, data) VALUES (:s, :d)"),
                    {"s": event["sender_id"], "d": json.dumps(event)},
                )
        assert feed.drain().inserted == 7
        assert EventFeed(get_engine(app_url), source).drain().inserted == 0
        source.engine.dispose()
        broker.dispose()
    assert [r.type for r in rows(get_engine(app_url))][2] == "user"
