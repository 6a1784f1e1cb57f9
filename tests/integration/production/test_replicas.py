"""Production mode with replicas, on the real PostgreSQL, Redis, RabbitMQ and Rasa.

One ``concierge run --production`` (tests/support/production_stack.py) serves the module: two
Rasa replicas (SQL tracker store in PostgreSQL, Redis lock store, Pika broker), two action
servers, two gateways and the worker. The tests run in order on it:

1. 50 conversations of 6 turns at once through ``POST /api/chat``: every turn answered; in
   Rasa's tracker database every conversation's events are those it sent and received, in
   order, none twice; ``app_events`` (filled by the worker from RabbitMQ) holds the same.
2. One Rasa replica SIGKILLed mid-run: the other carries on; only turns in flight fail, and
   politely (the fallback text in a 503); the supervisor starts the replica again.
3. Redis down: a turn gets the fallback text in a 503 (Rasa's REST channel reports the failed
   turn, rasa_addons/rest_channel.py); once it is back, the same conversation is answered,
   and Rasa (lock store) and the gateways (rate limits) recover without restarts.
4. RabbitMQ unreachable for a while (the TCP proxy cut): once back, no event is missing.
5. Two outbox workers on PostgreSQL at once: no lead delivered twice.

The services are on this machine and in CI: nothing here is skipped there.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from bot.crm.webhook import WebhookCRM
from bot.messages import FALLBACK_TEXT
from bot.workers.outbox import OutboxWorker, RetryPolicy
from core.config import PROJECT_ROOT, Settings
from core.scoring import load_scoring_rules
from core.storage import get_engine, session_scope
from core.storage.app_events import parse_event
from core.storage.leads import capture_lead
from core.storage.migrate import upgrade
from core.storage.quotes import save_quote
from tests.integration.crm.conftest import details, quote
from tests.support.chat import ChatSession
from tests.support.crm_standins import WebhookReceiver
from tests.support.postgres import temporary_database
from tests.support.production_stack import ProductionStack, listening_pid, production_stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SCRIPT = (
    "Hi there!",
    "Do you ship to Norway?",
    "How long do I have to return a product?",
    "How much is shipping?",
    "What payment methods do you accept?",
    "Thanks, bye!",
)
TURN_TIMEOUT = 30.0
TEARDOWN_SECONDS = 1.0
LOCK_LIFETIME_SECONDS = Settings.model_fields["rasa_lock_lifetime_seconds"].default


def trained_model() -> Path:
    """The model `make train` produced (CONCIERGE_MODEL when the Makefile runs the tests)."""
    default = PROJECT_ROOT / ".data" / "models" / "concierge.tar.gz"
    return Path(os.environ.get("CONCIERGE_MODEL", default)).resolve()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionStack]:
    model = trained_model()
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does it)")
    with production_stack(model, tmp_path_factory.mktemp("production")) as running:
        yield running


@pytest.fixture(scope="module")
def tracker_db(stack: ProductionStack) -> Iterator[Engine]:
    engine = create_engine(stack.tracker_database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def app_db(stack: ProductionStack) -> Iterator[Engine]:
    engine = create_engine(stack.app_database_url)
    yield engine
    engine.dispose()


# --- Simulated customers ---------------------------------------------------------------------
@dataclass
class Turn:
    text: str
    status: int
    replies: list[str]
    started: float
    ended: float


@dataclass
class Conversation:
    gateway: str
    conversation_id: str | None = None
    turns: list[Turn] = field(default_factory=list)

    @property
    def answered(self) -> list[Turn]:
        return [turn for turn in self.turns if turn.status == 200]

    @property
    def failed(self) -> list[Turn]:
        return [turn for turn in self.turns if turn.status != 200]


class InFlight:
    """Counts the turns waiting for an answer (what a replica's death may fail)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.done = 0

    def enter(self) -> None:
        with self.lock:
            self.now += 1

    def leave(self) -> None:
        with self.lock:
            self.now -= 1
            self.done += 1


def converse(
    gateway: str, inflight: InFlight | None = None, pause: tuple[float, float] = (0.0, 0.0)
) -> Conversation:
    """One customer: the six turns of SCRIPT, one after the other, as the widget sends them."""
    conversation = Conversation(gateway)
    with httpx.Client(base_url=gateway, timeout=TURN_TIMEOUT) as client:
        chat = ChatSession(client)
        for message in SCRIPT:
            time.sleep(random.uniform(*pause))
            if inflight:
                inflight.enter()
            started = time.monotonic()
            try:
                response = chat.post(message)
            finally:
                if inflight:
                    inflight.leave()
            body = response.json() if response.content else {}
            replies = [str(m.get("text") or "") for m in body.get("messages", [])]
            conversation.turns.append(
                Turn(message, response.status_code, replies, started, time.monotonic())
            )
            conversation.conversation_id = chat.conversation_id
            if response.status_code != 200:
                # A person reads "sorry, please try again" before typing on. A turn lost with
                # a killed replica keeps its conversation locked for the lock's lifetime.
                time.sleep(LOCK_LIFETIME_SECONDS)
    return conversation


def run_conversations(
    stack: ProductionStack,
    count: int,
    inflight: InFlight | None = None,
    pause: tuple[float, float] = (0.0, 0.0),
) -> list[Conversation]:
    gateways = stack.gateway_urls
    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [
            pool.submit(converse, gateways[index % len(gateways)], inflight, pause)
            for index in range(count)
        ]
        return [future.result() for future in futures]


def reply_of(response: httpx.Response) -> Turn:
    """A gateway answer as a :class:`Turn` (status and reply texts; no timings)."""
    body = response.json() if response.content else {}
    replies = [str(m.get("text") or "") for m in body.get("messages", [])]
    return Turn("", response.status_code, replies, 0.0, 0.0)


def assert_polite(turn: Turn) -> None:
    assert turn.status == 503, f"{turn.text!r} answered HTTP {turn.status}"
    assert turn.replies == [FALLBACK_TEXT], turn.replies


# --- What the databases hold ------------------------------------------------------------------
def tracker_events(engine: Engine, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Rasa's events of each conversation, in the order the tracker store wrote them."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT sender_id, timestamp, data FROM events "
                "WHERE sender_id = ANY(:ids) ORDER BY id"
            ),
            {"ids": ids},
        ).all()
    events: dict[str, list[dict[str, Any]]] = {conversation: [] for conversation in ids}
    for sender, timestamp, data in rows:
        event = json.loads(data)
        event["_row_timestamp"] = timestamp
        events[sender].append(event)
    return events


def app_event_keys(engine: Engine, ids: list[str]) -> Counter[str]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT event_key FROM app_events WHERE conversation_id = ANY(:ids)"),
            {"ids": ids},
        ).all()
    return Counter(key for (key,) in rows)


def expected_keys(events: dict[str, list[dict[str, Any]]]) -> Counter[str]:
    """The ``app_events`` keys of the tracker's events (what the worker must have stored)."""
    keys: Counter[str] = Counter()
    for sender, rows in events.items():
        for row in rows:
            body = {k: v for k, v in row.items() if k != "_row_timestamp"}
            keys[parse_event({**body, "sender_id": sender}).event_key] += 1
    return keys


def check_tracker(
    conversations: list[Conversation], engine: Engine
) -> dict[str, list[dict[str, Any]]]:
    """Every conversation's events are in order and are exactly what it sent and received."""
    ids = [c.conversation_id for c in conversations if c.conversation_id]
    assert len(ids) == len(conversations) == len(set(ids))
    events = tracker_events(engine, ids)
    for conversation in conversations:
        rows = events[str(conversation.conversation_id)]
        stamps = [row["timestamp"] for row in rows]
        assert stamps == sorted(stamps), "events out of order"
        user = [row for row in rows if row["event"] == "user"]
        ids_seen = [row.get("message_id") for row in user]
        assert len(ids_seen) == len(set(ids_seen)), "a user message stored twice"
        said = [row["text"] for row in user]
        answered = [turn.text for turn in conversation.answered]
        # every answered turn is there, in order; a failed turn may be (Rasa got it) or not
        assert [t for t in said if t in answered] == answered, (said, answered)
        assert len(said) <= len(conversation.turns)
        unexpected = set(said) - {turn.text for turn in conversation.turns}
        assert not unexpected, unexpected
        bot_texts = [row.get("text") for row in rows if row["event"] == "bot"]
        for turn in conversation.answered:
            for reply in turn.replies:
                assert reply in bot_texts, f"reply {reply[:60]!r} not in the tracker"
    return events


def wait_for_app_events(
    app_db: Engine,
    events: dict[str, list[dict[str, Any]]],
    timeout: float = 120.0,
    allow_missing: bool = False,
) -> list[dict[str, Any]]:
    """``app_events`` (from RabbitMQ) ends up with exactly the tracker's events.

    With ``allow_missing``, return the tracker's events it lacks instead of failing.
    """
    expected = expected_keys(events)
    assert max(expected.values()) == 1, "the tracker holds an event twice"
    deadline = time.monotonic() + timeout
    while True:
        stored = app_event_keys(app_db, list(events))
        if stored == expected or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    missing = expected - stored
    extra = stored - expected
    assert not extra, f"{sum(extra.values())} events in app_events the tracker does not have"
    if allow_missing:
        return [
            row
            for sender, rows in events.items()
            for row in rows
            if parse_event(
                {**{k: v for k, v in row.items() if k != "_row_timestamp"}, "sender_id": sender}
            ).event_key
            in missing
        ]
    assert not missing, f"{sum(missing.values())} of {sum(expected.values())} events missing"
    return []


# --- The tests --------------------------------------------------------------------------------
def test_fifty_conversations_of_six_turns_across_the_replicas(
    stack: ProductionStack, tracker_db: Engine, app_db: Engine
) -> None:
    # customers pause between messages (a second or more): 50 of them keep two Rasa
    # replicas busy without queueing turns past the gateway's timeout on a shared machine
    conversations = run_conversations(stack, 50, pause=(1.0, 4.0))
    for conversation in conversations:
        for turn in conversation.turns:
            assert turn.status == 200, f"{turn.text!r}: HTTP {turn.status} {turn.replies}"
            assert turn.replies and all(turn.replies), f"{turn.text!r} got no text"
            assert turn.replies != [FALLBACK_TEXT]
    events = check_tracker(conversations, tracker_db)
    wait_for_app_events(app_db, events)
    # both replicas answered: each wrote its own conversations' first events
    for url in stack.rasa_urls:
        assert listening_pid(int(url.rsplit(":", 1)[1])) is not None


def test_a_killed_rasa_replica_fails_only_the_turns_in_flight(
    stack: ProductionStack, tracker_db: Engine, app_db: Engine
) -> None:
    victim_port = int(stack.rasa_urls[1].rsplit(":", 1)[1])
    victim = listening_pid(victim_port)
    assert victim is not None
    inflight = InFlight()
    killed: dict[str, float] = {}

    def kill_when_busy() -> None:
        while inflight.done < 40:
            time.sleep(0.01)
        with inflight.lock:  # the count cannot change while the replica dies
            os.killpg(os.getpgid(victim), signal.SIGKILL)
            killed["inflight"] = inflight.now
            killed["at"] = time.monotonic()
            killed["wall"] = time.time()
        KILLED["rasa 2"] = victim  # the last test sees it answer again

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    conversations = run_conversations(stack, 20, inflight, pause=(0.2, 1.0))
    killer.join(timeout=5)
    assert killed, "the replica was not killed (too few turns?)"
    failed = [turn for c in conversations for turn in c.failed]
    # In flight: waiting at the kill, or sent while the killed process was being torn down
    # (SIGKILL is not instant; until its sockets close, a request can still reach it).
    dying = [
        turn
        for c in conversations
        for turn in c.turns
        if killed["at"] < turn.started <= killed["at"] + TEARDOWN_SECONDS
    ]
    assert len(failed) <= killed["inflight"] + len(dying), (len(failed), killed, len(dying))
    for turn in failed:
        assert_polite(turn)
        assert turn.ended >= killed["at"], "a turn failed before the kill"
        assert turn.started <= killed["at"] + TEARDOWN_SECONDS, "a turn after the kill failed"
    assert sum(len(c.answered) for c in conversations) >= 20 * len(SCRIPT) - len(failed)
    events = check_tracker(conversations, tracker_db)
    # Rasa publishes a turn's events as it saves them; a replica killed at that moment has
    # them in the tracker but never published: only events of turns in flight at the kill.
    missing = wait_for_app_events(app_db, events, allow_missing=True)
    for event in missing:
        assert killed["wall"] - TURN_TIMEOUT <= event["timestamp"] <= killed["wall"] + 1, event
    assert "The rasa 2 exited; starting it again" in stack.output.read_text()


KILLED: dict[str, int] = {}


def test_redis_restarted_rasa_and_the_gateways_recover_without_a_restart(
    stack: ProductionStack,
) -> None:
    # (the second Rasa replica may be restarting after the previous test: not compared)
    ports = [int(url.rsplit(":", 1)[1]) for url in stack.gateway_urls + stack.rasa_urls[:1]]
    before = {port: listening_pid(port) for port in ports}
    with httpx.Client(base_url=stack.gateway_urls[0], timeout=TURN_TIMEOUT) as client:
        chat = ChatSession(client)
        stack.redis.kill()
        try:
            # Rasa's lock store cannot reach Redis, so the turn fails; the project's REST
            # channel (rasa_addons/rest_channel.py) answers 500 instead of Rasa's empty 200,
            # and the customer reads the fallback text in a 503, never an empty reply
            down = reply_of(chat.post("Hi there!"))
            assert down.status == 503, (down.status, down.replies)
            assert down.replies == [FALLBACK_TEXT]
            assert chat.conversation_id and chat.token, "the 503 starts the conversation"
        finally:
            stack.redis.start()
        # and it was that failure, not a slow Rasa (a timeout is the same 503)
        rasa_logs = "".join(
            path.read_text(errors="replace") for path in (stack.data_dir / "logs").glob("rasa*")
        )
        assert "rest.turn.failed reason=LockError" in rasa_logs
        # the same conversation goes on once Redis is back (its lock store reconnects)
        deadline = time.monotonic() + 60
        while (again := reply_of(chat.post("How much is shipping?"))).status != 200:
            assert again.status == 503 and again.replies == [FALLBACK_TEXT], again
            assert time.monotonic() < deadline, "no answer a minute after Redis came back"
            time.sleep(LOCK_LIFETIME_SECONDS)
        assert again.replies and all(again.replies) and again.replies != [FALLBACK_TEXT]
    deadline = time.monotonic() + 60
    while True:
        conversations = run_conversations(stack, 4)
        if all(turn.status == 200 for c in conversations for turn in c.turns):
            break
        assert time.monotonic() < deadline, "not recovered a minute after Redis came back"
        time.sleep(2)
    assert {port: listening_pid(port) for port in ports} == before, "something was restarted"


def test_rabbitmq_away_for_a_while_loses_no_event(
    stack: ProductionStack, tracker_db: Engine, app_db: Engine
) -> None:
    inflight = InFlight()

    def outage() -> None:
        while inflight.done < 15:
            time.sleep(0.05)
        stack.broker_proxy.cut()
        time.sleep(6.0)  # conversations go on meanwhile; Rasa cannot publish
        stack.broker_proxy.restore()

    cutter = threading.Thread(target=outage)
    cutter.start()
    conversations = run_conversations(stack, 10, inflight, pause=(0.5, 1.5))
    cutter.join(timeout=30)
    assert stack.broker_proxy.available
    for conversation in conversations:
        for turn in conversation.turns:
            assert turn.status == 200, f"{turn.text!r}: HTTP {turn.status}"
    events = check_tracker(conversations, tracker_db)
    wait_for_app_events(app_db, events, timeout=180)


def test_two_outbox_workers_on_postgresql_deliver_each_lead_once() -> None:
    rules = load_scoring_rules(PROJECT_ROOT / "knowledge" / "demo" / "scoring.yml")
    with temporary_database() as url, WebhookReceiver("s3cret").running() as receiver:
        upgrade(url)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            crm="webhook",
            crm_webhook_url=receiver.url,
            crm_webhook_secret=SecretStr("s3cret"),
        )
        engine = get_engine(url)
        leads = []
        for index in range(40):
            with session_scope(engine) as session:
                save_quote(session, quote(f"conv-{index}"))
            with session_scope(engine) as session:
                leads.append(capture_lead(session, details(index), settings, rules).lead_id)
        engine.dispose()

        def one_worker() -> dict[str, int]:
            own = create_engine(url, pool_size=4)  # a process of its own would have its own
            try:
                with httpx.Client(timeout=5.0) as http:
                    worker = OutboxWorker(
                        own,
                        {"crm:webhook": WebhookCRM(receiver.url, "s3cret", http, "https://x")},
                        RetryPolicy(max_attempts=4, base_seconds=0.01, cap_seconds=0.05),
                        batch_size=5,
                        lease_seconds=30,
                        concurrency=2,
                    )
                    return worker.drain(poll_seconds=0.01, timeout=120)
            finally:
                own.dispose()

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda _: one_worker(), range(2)))
    assert all(result.get("delivered") == len(leads) for result in results), results
    assert receiver.deliveries == len(leads), "a lead was delivered twice"
    assert {r["event"]["lead"]["id"] for r in receiver.records.values()} == set(leads)


def test_the_killed_replica_was_started_again_and_answers(stack: ProductionStack) -> None:
    victim = KILLED.get("rasa 2")
    if victim is None:
        pytest.fail("the kill test did not run or did not kill the replica")
    port = int(stack.rasa_urls[1].rsplit(":", 1)[1])
    deadline = time.monotonic() + 300
    while listening_pid(port) in (None, victim):
        assert stack.process.poll() is None, stack.log_tail()
        assert time.monotonic() < deadline, "the killed replica was not started again"
        time.sleep(2)
    with httpx.Client(timeout=TURN_TIMEOUT) as client:
        sender = f"restart-check-{time.time_ns()}"
        response = client.post(
            f"{stack.rasa_urls[1]}/webhooks/rest/webhook",
            json={"sender": sender, "message": "Hi there!"},
        )
    assert response.status_code == 200 and response.json(), response.text
