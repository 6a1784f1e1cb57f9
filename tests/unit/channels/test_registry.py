"""The channel registry built from configuration, and the JSON connectors' later replies."""

from __future__ import annotations

import asyncio

import pytest

from channels.base import Channel, Outbox, PendingReplies, Undeliverable
from channels.registry import UnknownChannel, build_channels, load_connector
from channels.rest import RestChannel
from channels.web import WebChannel
from core.messages import OutgoingMessage

HELLO = OutgoingMessage(text="An agent writes: hello")


def test_build_channels_from_names() -> None:
    registry = build_channels(["web", " REST ", "web"])
    assert list(registry) == ["web", "rest"]
    assert isinstance(registry["web"], WebChannel)
    assert isinstance(registry["rest"], RestChannel)
    assert all(isinstance(channel, Channel) for channel in registry.values())


def test_build_channels_passes_each_block() -> None:
    registry = build_channels(["rest"], {"rest": {"max_message_length": 12}})
    rest = registry["rest"]
    assert isinstance(rest, RestChannel)
    assert rest.max_message_length == 12


def test_only_configured_channels_are_built() -> None:
    assert list(build_channels(["rest"])) == ["rest"]
    assert build_channels([]) == {}


@pytest.mark.parametrize("name", ["telegramm", "base", "registry", "../core", "Web!", "x" * 40])
def test_unknown_channels_are_refused(name: str) -> None:
    with pytest.raises(UnknownChannel):
        build_channels([name])


def test_load_connector_returns_the_module_class() -> None:
    assert load_connector("web") is WebChannel


def test_send_keeps_replies_for_the_next_turn() -> None:
    web = WebChannel()
    assert isinstance(web, PendingReplies)
    asyncio.run(web.send("user-1", [HELLO]))
    asyncio.run(web.send("user-1", [OutgoingMessage(text="second")]))
    assert web.take_pending("someone-else") == []
    assert [m.text for m in web.take_pending("user-1")] == ["An agent writes: hello", "second"]
    assert web.take_pending("user-1") == [], "taking forgets them"


def test_send_to_an_invalid_recipient_is_undeliverable() -> None:
    with pytest.raises(Undeliverable, match="recipient_id must be 1 to 128"):
        asyncio.run(RestChannel().send("not valid", [HELLO]))


def test_full_outbox_is_undeliverable() -> None:
    outbox = Outbox(max_per_conversation=2, max_conversations=1)
    channel = WebChannel(outbox=outbox)
    asyncio.run(channel.send("a", [HELLO, HELLO]))
    with pytest.raises(Undeliverable, match="more than 2 undelivered replies") as caught:
        asyncio.run(channel.send("a", [HELLO]))
    assert caught.value.channel == "web"
    with pytest.raises(Undeliverable, match="too many conversations"):
        asyncio.run(channel.send("b", [HELLO]))
    assert len(outbox) == 1
    channel.take_pending("a")
    asyncio.run(channel.send("b", [HELLO]))
    assert len(outbox) == 1


def test_from_credentials_sets_the_outbox_bound() -> None:
    channel = WebChannel.from_credentials({"max_pending_messages": 1})
    asyncio.run(channel.send("a", [HELLO]))
    with pytest.raises(Undeliverable):
        asyncio.run(channel.send("a", [HELLO]))
