"""The Rasa client's typed errors, with httpx's mock transport (no sockets)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from bot.rasa_client import RasaBadResponse, RasaClient, RasaTimeout, RasaUnavailable
from core.messages import IncomingMessage

MESSAGE = IncomingMessage(sender_id="u1", text="hello", channel="web", metadata={"page": "/"})

Handler = Callable[[httpx.Request], httpx.Response]


def run_send(handler: Handler, timeout: float = 1.0) -> list[dict[str, object]]:
    async def go() -> list[dict[str, object]]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            return await RasaClient(http, "http://rasa:5005/", timeout).send(MESSAGE)

    return asyncio.run(go())


def test_send_posts_to_the_rest_webhook() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[{"recipient_id": "u1", "text": "hi"}, "junk"])

    assert run_send(handler) == [{"recipient_id": "u1", "text": "hi"}]
    [request] = seen
    assert str(request.url) == "http://rasa:5005/webhooks/rest/webhook"
    assert json.loads(request.content) == {
        "sender": "u1",
        "message": "hello",
        "metadata": {"page": "/", "channel": "web"},
    }


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(500, text="boom"), RasaUnavailable),
        (httpx.Response(404, json={}), RasaUnavailable),
        (httpx.Response(200, text="<html>"), RasaBadResponse),
        (httpx.Response(200, json={"not": "a list"}), RasaBadResponse),
    ],
)
def test_bad_answers_are_typed_errors(response: httpx.Response, error: type[Exception]) -> None:
    with pytest.raises(error):
        run_send(lambda request: response)


def test_connection_errors_are_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(RasaUnavailable) as caught:
        run_send(handler)
    assert not isinstance(caught.value, RasaTimeout)


def test_httpx_timeouts_are_rasa_timeouts() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(RasaTimeout):
        run_send(handler)


def test_whole_exchange_is_bounded() -> None:
    async def go() -> None:
        async def slow(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(5)
            return httpx.Response(200, json=[])

        async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as http:
            await RasaClient(http, "http://rasa", 0.2).send(MESSAGE)

    with pytest.raises(RasaTimeout, match=r"0\.2 s"):
        asyncio.run(go())


def test_status() -> None:
    async def go(body: object) -> dict[str, object]:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
        async with httpx.AsyncClient(transport=transport) as http:
            return await RasaClient(http, "http://rasa", 1).status()

    assert asyncio.run(go({"model_file": "m.tar.gz"})) == {"model_file": "m.tar.gz"}
    with pytest.raises(RasaBadResponse):
        asyncio.run(go([1]))


def test_token_goes_to_the_api_routes_only() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/webhooks/rest/webhook":
            return httpx.Response(200, json=[])
        return httpx.Response(200, json={"model_file": "m", "events": []})

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            client = RasaClient(http, "http://rasa:5005", 1.0, auth_token="s3cret")
            await client.send(MESSAGE)
            await client.status()
            await client.tracker("user:1@x")

    asyncio.run(go())
    webhook, status, tracker = seen
    assert "token" not in webhook.url.params
    assert status.url.params["token"] == "s3cret"
    assert tracker.url.params["token"] == "s3cret"
    assert tracker.url.raw_path.startswith(b"/conversations/user%3A1%40x/tracker")


def test_errors_name_neither_the_token_nor_the_conversation() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/status":
            raise httpx.ConnectError(f"refused {request.url}", request=request)
        return httpx.Response(401, json={"reason": "NotAuthenticated"})

    async def go() -> list[str]:
        errors: list[str] = []
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            client = RasaClient(http, "http://rasa:5005", 1.0, auth_token="s3cret")
            for call in (client.status(), client.tracker("alice")):
                try:
                    await call
                except RasaUnavailable as error:
                    errors.append(str(error))
        return errors

    status_error, tracker_error = asyncio.run(go())
    assert "s3cret" not in status_error and "***" in status_error
    assert tracker_error == "Rasa answered HTTP 401 on /conversations/{conversation_id}/tracker"
