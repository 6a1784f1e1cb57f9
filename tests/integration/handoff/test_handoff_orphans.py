"""Requests whose turn never reached the gateway: the sweep opens each once, on both engines.

Two gateway replicas are two :class:`HandoffService` objects with their own engines (own
connection pools) on one database, sweeping at the same moment; taking the requests is the
claim, so each conversation is acted on by exactly one of them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, func, select

from bot.rasa_client import RasaClient
from bot.services.business_hours import BusinessHours
from bot.services.handoff import (
    HandoffService,
    HandoffStore,
    TrackerEvents,
    expire_forever,
)
from bot.services.realtime import RealtimeHub
from channels.web import WebChannel
from core.storage import Handoff, HandoffRequest, get_engine, session_scope
from core.storage.handoff import HandoffTransition
from core.storage.migrate import upgrade
from tests.support.rasa_events import StandInRasaWithEvents

ALWAYS = BusinessHours.parse("UTC", "mon-sun", "00:00-23:59:59.999999")
GRACE_SECONDS = 30.0


def never_open() -> BusinessHours:
    today = datetime.now(UTC).date()
    closed = [str(today + timedelta(days=d)) for d in (-1, 0, 1)]
    return BusinessHours.parse("UTC", "mon-sun", "09:00-17:00", closed)


@pytest.fixture
def engines(database_url: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one migrated database, as two gateway replicas have."""
    upgrade(database_url)
    fresh = get_engine.__wrapped__  # the uncached factory: a pool of its own for each
    pair = (fresh(database_url), fresh(database_url))
    yield pair
    for engine in pair:
        engine.dispose()


def add_request(engine: Engine, sender_id: str, age_seconds: float, channel: str = "web") -> str:
    with session_scope(engine) as session:
        row = HandoffRequest(
            sender_id=sender_id,
            channel=channel,
            reason="customer_request",
            last_message=f"question of {sender_id}",
            created_at=datetime.now(UTC) - timedelta(seconds=age_seconds),
        )
        session.add(row)
        session.flush()
        return row.id


def statuses(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as session:
        return {r.sender_id: r.status for r in session.scalars(select(HandoffRequest)).all()}


@asynccontextmanager
async def replica(
    engine: Engine, rasa: StandInRasaWithEvents, hours: BusinessHours
) -> AsyncIterator[HandoffService]:
    """One gateway's handoff service: its Rasa client, web channel and live push."""
    async with httpx.AsyncClient(transport=rasa.transport) as http:
        realtime = RealtimeHub(engine)
        web = WebChannel()
        web.push = realtime.publish_messages
        yield HandoffService(
            HandoffStore(engine),
            TrackerEvents(RasaClient(http, rasa.url, 2.0, auth_token=rasa.auth_token)),
            {"web": web},
            hours,
            realtime=realtime,
            orphan_grace_seconds=GRACE_SECONDS,
        )


async def sweep_both(
    engines: tuple[Engine, Engine], rasa: StandInRasaWithEvents, hours: BusinessHours
) -> tuple[int, int]:
    async with replica(engines[0], rasa, hours) as a, replica(engines[1], rasa, hours) as b:
        first, second = await asyncio.gather(a.open_orphaned_requests(), b.open_orphaned_requests())
        return first, second


def race(stores: list[HandoffStore], conversation: str) -> list[int]:
    """Let every store take ``conversation``'s requests at once; return how many each got."""
    start = threading.Barrier(len(stores))
    taken: list[int] = []
    lock = threading.Lock()

    def take(store: HandoffStore) -> None:
        start.wait()
        rows = store.take_requests(conversation, "queued")
        with lock:
            taken.append(len(rows))

    threads = [threading.Thread(target=take, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(taken)


def test_concurrent_takes_of_a_conversations_requests_exactly_one_gets_them(
    engines: tuple[Engine, Engine],
) -> None:
    stores = [HandoffStore(engines[n % 2]) for n in range(6)]
    for round_ in range(5):
        conversation = f"race{round_}"
        for _ in range(2):
            add_request(engines[0], conversation, age_seconds=60)
        taken = race(stores, conversation)
        assert taken == [0] * (len(stores) - 1) + [2], (conversation, taken)
    assert set(statuses(engines[0]).values()) == {"queued"}


def test_two_replicas_open_each_orphaned_request_once(engines: tuple[Engine, Engine]) -> None:
    rasa = StandInRasaWithEvents()
    orphans = [f"web-orphan-{n}" for n in range(12)]
    for conversation in orphans:
        add_request(engines[0], conversation, age_seconds=GRACE_SECONDS + 5)
    add_request(engines[0], "web-in-its-turn", age_seconds=1)  # its turn may still answer

    first, second = asyncio.run(sweep_both(engines, rasa, ALWAYS))

    assert first + second == len(orphans)
    with session_scope(engines[0]) as session:
        opened = session.execute(
            select(Handoff.conversation_id, func.count()).group_by(Handoff.conversation_id)
        ).all()
        assert dict(opened) == dict.fromkeys(orphans, 1)
        summaries = set(session.scalars(select(Handoff.summary)).all())
        assert summaries == {f"question of {c}" for c in orphans}
        transitions = session.scalars(select(HandoffTransition.actor)).all()
        assert transitions == ["customer"] * len(orphans)
    assert statuses(engines[0]) == {**dict.fromkeys(orphans, "queued"), "web-in-its-turn": "open"}
    assert rasa.appended == []  # within business hours the customer is not written to
    assert asyncio.run(sweep_both(engines, rasa, ALWAYS)) == (0, 0)


def test_outside_business_hours_one_replica_offers_to_leave_a_message(
    engines: tuple[Engine, Engine],
) -> None:
    rasa = StandInRasaWithEvents()
    add_request(engines[0], "web-late", age_seconds=GRACE_SECONDS + 5)

    assert sorted(asyncio.run(sweep_both(engines, rasa, never_open()))) == [0, 1]

    [pushed] = RealtimeHub(engines[0]).events_after("web-late", 0)
    [offer] = pushed.payload["messages"]
    assert offer["text"].startswith("Our team is not available right now.")
    assert offer["buttons"] == [{"title": "Leave my email", "payload": "/leave_email"}]
    # the offer is in the tracker too, so the button passes the payload guard
    [(sender, [event])] = rasa.appended
    assert (sender, event["event"], event["data"]["buttons"]) == (
        "web-late",
        "bot",
        [{"title": "Leave my email", "payload": "/leave_email"}],
    )
    assert statuses(engines[0]) == {"web-late": "after_hours"}
    with session_scope(engines[0]) as session:
        assert session.scalar(select(func.count()).select_from(Handoff)) == 0


def test_the_periodic_sweep_opens_orphaned_requests(engines: tuple[Engine, Engine]) -> None:
    rasa = StandInRasaWithEvents()
    add_request(engines[0], "web-swept", age_seconds=GRACE_SECONDS + 5)

    async def main() -> None:
        async with replica(engines[0], rasa, ALWAYS) as service:
            sweep = asyncio.create_task(expire_forever(service, interval_seconds=0.05))
            try:
                for _ in range(200):
                    if await asyncio.to_thread(service.store.open_for, "web-swept"):
                        return
                    await asyncio.sleep(0.05)
                pytest.fail("the sweep did not open the orphaned request")
            finally:
                sweep.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await sweep

    asyncio.run(main())
    assert statuses(engines[0]) == {"web-swept": "queued"}
