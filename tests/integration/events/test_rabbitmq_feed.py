"""The event feed from RabbitMQ, as Rasa's Pika event broker publishes to it (production).

Rasa's ``PikaEventBroker`` (rasa/core/brokers/pika.py) declares a fanout exchange
``rasa-exchange`` and a durable queue bound to it, and publishes each event as a persistent
JSON message; these tests publish the same way to the local RabbitMQ and check what the
worker's consumer stores and acknowledges.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from sqlalchemy import Engine, select

from bot.workers.events import RabbitFeed, build_feed
from core.config import Settings
from core.storage import get_engine, session_scope
from core.storage.app_events import AppEvent
from core.storage.migrate import upgrade
from tests.integration.events.test_event_feed import conversation

AMQP_URL = os.environ.get("CONCIERGE_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


async def _call(queue: str, action: str, bodies: list[bytes] | None = None) -> int:
    connection = await aio_pika.connect(AMQP_URL, timeout=5)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange("rasa-exchange", aio_pika.ExchangeType.FANOUT)
        declared = await channel.declare_queue(queue, durable=True)
        if action == "publish":
            await declared.bind(exchange, "")
            for body in bodies or []:
                await exchange.publish(
                    aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), ""
                )
            return 0
        if action == "delete":
            await declared.unbind(exchange, "")
            await declared.delete(if_unused=False, if_empty=False)
            return 0
        count = declared.declaration_result.message_count
        return int(count or 0)


def publish(queue: str, events: list[dict[str, Any]]) -> None:
    asyncio.run(_call(queue, "publish", [json.dumps(e).encode() for e in events]))


def waiting(queue: str) -> int:
    return asyncio.run(_call(queue, "count"))


@pytest.fixture
def queue() -> Iterator[str]:
    name = f"concierge_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_call(name, "count"))
    except (OSError, aio_pika.exceptions.AMQPError) as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no RabbitMQ at {AMQP_URL}: {type(error).__name__}")
    yield name
    asyncio.run(_call(name, "delete"))


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'concierge.db'}"
    upgrade(url)
    return get_engine(url)


def stored(engine: Engine) -> list[tuple[str, str, str | None]]:
    with session_scope(engine) as session:
        rows = session.scalars(select(AppEvent).order_by(AppEvent.id))
        return [(r.conversation_id, r.type, r.channel) for r in rows]


def test_consumes_in_order_acks_and_never_stores_twice(engine: Engine, queue: str) -> None:
    events = conversation("ida", "web", 1_800_000_000.0)
    publish(queue, events)
    feed = RabbitFeed(engine, AMQP_URL, queue, batch_size=4)
    stats = feed.drain(timeout=30)
    assert (stats.read, stats.inserted) == (7, 7)
    assert [t for _c, t, _ch in stored(engine)] == [e["event"] for e in events]
    assert stored(engine)[-1] == ("ida", "action", "web")
    assert waiting(queue) == 0  # every message acknowledged
    # the broker delivers the same events again (a redelivery, Rasa retrying a publish)
    publish(queue, events[2:4])
    assert RabbitFeed(engine, AMQP_URL, queue).drain(timeout=30).inserted == 0
    assert len(stored(engine)) == 7 and waiting(queue) == 0


def test_a_database_failure_leaves_the_messages_in_the_queue(
    engine: Engine, queue: str, tmp_path: Path
) -> None:
    publish(queue, conversation("jon", "telegram", 1_800_000_000.0))
    unmigrated = get_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no app_events table
    with pytest.raises(Exception, match="app_events"):
        RabbitFeed(unmigrated, AMQP_URL, queue).drain(timeout=30)
    assert waiting(queue) == 7  # nothing was acknowledged
    assert RabbitFeed(engine, AMQP_URL, queue).drain(timeout=30).inserted == 7
    assert waiting(queue) == 0


def test_a_message_that_is_not_an_event_is_dropped(
    engine: Engine, queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    asyncio.run(_call(queue, "publish", [b"not json kim@example.org", b'{"event": "user"}']))
    publish(queue, conversation("kim", "web", 1_800_000_000.0)[2:3])
    stats = RabbitFeed(engine, AMQP_URL, queue).drain(timeout=30)
    assert (stats.read, stats.inserted) == (3, 1)
    assert waiting(queue) == 0
    assert "kim@example.org" not in caplog.text


def test_the_worker_uses_rabbitmq_when_it_is_configured(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        rabbitmq_url="amqp://guest:guest@127.0.0.1:5672/",
        event_broker_queue="concierge_rasa_events",
    )
    feed = build_feed(settings)
    assert isinstance(feed, RabbitFeed) and feed.queue == "concierge_rasa_events"
