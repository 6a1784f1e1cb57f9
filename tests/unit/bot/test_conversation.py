"""The conversation service: typed payloads, the outbox, the fallback (stand-in Rasa)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from bot.messages import fallback_message
from bot.rasa_client import RasaClient
from bot.services.conversation import ConversationService, Turn, neutralise, offered_payloads
from channels.base import Outbox
from channels.web import WebChannel
from core.logging import sender_ref
from core.messages import IncomingMessage, OutgoingMessage
from tests.support.rasa import StandInRasa

T = TypeVar("T")
INFORM = '/inform{"email": "x@y.z"}'


def run(rasa: StandInRasa, go: Callable[[ConversationService], Awaitable[T]]) -> T:
    async def main() -> T:
        async with httpx.AsyncClient(transport=rasa.transport) as http:
            client = RasaClient(http, rasa.url, 2.0, auth_token=rasa.auth_token)
            return await go(ConversationService(client))

    return asyncio.run(main())


def say(rasa: StandInRasa, text: str, sender: str = "u1") -> list[OutgoingMessage]:
    message = IncomingMessage(sender_id=sender, text=text, channel="web")
    return run(rasa, lambda service: service.converse(message))


def sent(rasa: StandInRasa) -> list[str]:
    return [r["body"]["message"] for r in rasa.requests]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (INFORM, 'inform{"email": "x@y.z"}'),
        ("/buy", "buy"),
        ("// hello", "hello"),
        ('/ /inform{"email":"a@b.c"}', 'inform{"email":"a@b.c"}'),
        ("/\t/restart", "restart"),
        (" /buy", "buy"),
        ("/", "?"),
        ("///", "?"),
    ],
)
def test_neutralise(text: str, expected: str) -> None:
    assert neutralise(text) == expected
    assert not neutralise(text).startswith("/")


def test_offered_payloads_are_those_of_the_last_reply() -> None:
    rasa = StandInRasa()
    rasa.offer("u1", "/old")
    rasa.trackers["u1"].append({"event": "user", "text": "hi"})
    rasa.offer("u1", "/affirm", "/deny")
    rasa.trackers["u1"].append({"event": "action", "name": "action_listen"})
    rasa.offer("u1", "/ask_human")
    assert offered_payloads(rasa.tracker("u1")) == {"/affirm", "/deny", "/ask_human"}
    assert offered_payloads({"events": "junk"}) == set()
    assert offered_payloads({"events": [{"event": "bot", "data": {"buttons": [1, {}]}}]}) == set()


def test_typed_payload_never_reaches_rasa_as_a_payload(caplog: pytest.LogCaptureFixture) -> None:
    rasa = StandInRasa()
    caplog.set_level(logging.INFO, logger="bot")
    say(rasa, INFORM, sender="alice@example.com")
    assert sent(rasa) == ['inform{"email": "x@y.z"}']
    [line] = [r.getMessage() for r in caplog.records if "chat.payload.neutralised" in r.message]
    assert sender_ref("alice@example.com") in line
    assert "alice@example.com" not in caplog.text
    assert "x@y.z" not in caplog.text


@pytest.mark.parametrize("typed", ["/ /restart", " /restart", "/\t/restart"])
def test_spaces_between_or_before_slashes_do_not_smuggle_a_payload(typed: str) -> None:
    rasa = StandInRasa()
    say(rasa, typed)
    assert sent(rasa) == ["restart"]


def test_offered_button_payload_goes_through_unchanged() -> None:
    rasa = StandInRasa()
    say(rasa, "what is the return window?")  # the reply offers /ask_human
    say(rasa, "/ask_human")
    assert sent(rasa) == ["what is the return window?", "/ask_human"]
    tracker_calls = [c for c in rasa.calls if c["path"].endswith("/tracker")]
    assert tracker_calls == [
        {"method": "GET", "path": "/conversations/u1/tracker", "token": rasa.auth_token}
    ]


def test_payload_not_in_the_last_reply_is_neutralised() -> None:
    rasa = StandInRasa()
    rasa.offer("u1", "/buy")
    say(rasa, "hello")  # the last reply now offers only /ask_human
    say(rasa, "/buy")
    rasa.reply = [{"recipient_id": "u1", "text": "A person will reply soon."}]
    say(rasa, "/ask_human")
    say(rasa, "/ask_human")  # a button of a reply that is no longer the last
    assert sent(rasa) == ["hello", "buy", "/ask_human", "ask_human"]


def test_another_conversations_buttons_do_not_count() -> None:
    rasa = StandInRasa()
    rasa.offer("someone-else", "/buy")
    say(rasa, "/buy")
    assert sent(rasa) == ["buy"]


def test_unreadable_tracker_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    rasa = StandInRasa()
    rasa.offer("u1", "/ask_human")
    rasa.auth_token = "another-token"  # the gateway's token is now wrong: the tracker is 401
    caplog.set_level(logging.INFO, logger="bot")

    async def go(service: ConversationService) -> list[OutgoingMessage]:
        service.rasa._auth_token = "stale"
        return await service.converse(IncomingMessage("u1", "/ask_human", "web"))

    run(rasa, go)
    assert sent(rasa) == ["ask_human"]
    assert "chat.tracker.unavailable" in caplog.text
    assert "stale" not in caplog.text


def test_plain_text_never_reads_the_tracker() -> None:
    rasa = StandInRasa()
    say(rasa, "hello / there")
    assert [c["path"] for c in rasa.calls] == ["/webhooks/rest/webhook"]


def test_turn_returns_pending_replies_first_then_the_new_ones() -> None:
    rasa = StandInRasa()
    rasa.reply = [{"recipient_id": "u1", "text": "new"}]
    channel = WebChannel(outbox=Outbox())

    async def go(service: ConversationService) -> tuple[bool, Turn, Turn]:
        delivered = await service.deliver(channel, "u1", [OutgoingMessage(text="from an agent")])
        first = await service.turn(channel, {"sender_id": "u1", "message": "hi"})
        second = await service.turn(channel, {"sender_id": "u1", "message": "hi"})
        return delivered, first, second

    delivered, first, second = run(rasa, go)
    assert delivered is True
    assert [m.text for m in first.messages] == ["from an agent", "new"]
    assert [m.text for m in second.messages] == ["new"]


def test_pending_replies_wait_while_rasa_is_down() -> None:
    rasa = StandInRasa()
    rasa.mode = "error"
    channel = WebChannel()

    async def go(service: ConversationService) -> tuple[Turn, list[Any]]:
        await service.deliver(channel, "u1", [OutgoingMessage(text="from an agent")])
        turn = await service.turn(channel, {"sender_id": "u1", "message": "hi"})
        return turn, channel.take_pending("u1")

    turn, pending = run(rasa, go)
    assert turn.ok is False
    assert turn.messages == [fallback_message()]
    assert [m.text for m in pending] == ["from an agent"]


def test_undeliverable_is_logged_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    rasa = StandInRasa()
    channel = WebChannel(outbox=Outbox(max_per_conversation=1))
    caplog.set_level(logging.INFO, logger="bot")

    async def go(service: ConversationService) -> list[bool]:
        message = [OutgoingMessage(text="x")]
        return [await service.deliver(channel, "bob", message) for _ in range(2)]

    assert run(rasa, go) == [True, False]
    assert "channel.send.undeliverable" in caplog.text
    assert sender_ref("bob") in caplog.text
    assert "bob" not in caplog.text.replace(sender_ref("bob"), "")
