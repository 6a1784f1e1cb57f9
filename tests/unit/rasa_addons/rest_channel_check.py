"""Run in Rasa's environment: serve credentials.yml's channels as Rasa does, print JSON.

Used by tests/unit/rasa_addons/test_rest_channel.py (Rasa is not installed in the app's
environment). The channels are read from the credentials file named by the first argument
(the project's, or one with Rasa's own ``rest:`` to compare) and registered on a Sanic app by
Rasa's own functions; the agent behind them is a stand-in whose ``handle_message`` raises,
replies or stays silent depending on the message text. Each webhook answer (status and
body) and the channel's log records are printed as one JSON line. One file per process, as
a Rasa server has (Sanic rewrites its class's methods when the first app starts).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys
from pathlib import Path
from typing import Any

SENDER = "conversation-5f0c2a9e"
FAILING_TEXT = "my secret order number is 4711"


class StandInAgent:
    """Rasa's agent as the channel sees it: ``handle_message`` by the message text."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    async def handle_message(self, message: Any) -> None:
        self.seen.append(
            {
                "text": message.text,
                "sender_id": message.sender_id,
                "input_channel": message.input_channel,
                "metadata": message.metadata,
            }
        )
        out = message.output_channel
        if message.text == FAILING_TEXT:
            from rasa.core.lock_store import LockError

            # Rasa's own words for a lock it could not take, which name the conversation,
            # caused here by an error that quotes the message
            try:
                raise ConnectionError(f"Error 111 while sending {message.text!r}")
            except ConnectionError as error:
                raise LockError(
                    f"Could not acquire lock for conversation_id '{message.sender_id}'."
                ) from error
        if message.text == "reply":
            await out.send_text_message(message.sender_id, "Hello!")
            await out.send_text_with_buttons(
                message.sender_id, "Pick one", [{"title": "Yes", "payload": "/affirm"}]
            )
        if message.text == "cancelled":
            await out.send_text_message(message.sender_id, "Partial")
            raise asyncio.CancelledError


class Records(logging.Handler):
    """Keep the formatted records (with their tracebacks) of the channel's logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[dict[str, Any]] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(
            {
                "level": record.levelname,
                "message": record.getMessage(),
                "formatted": self.format(record),
            }
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def check(credentials: Path) -> dict[str, Any]:
    """Serve the channels of ``credentials`` with a stand-in agent; post to the webhook."""
    import aiohttp
    from rasa.core.channels.channel import register
    from rasa.core.run import create_http_input_channels
    from sanic import Sanic

    records = Records()
    project_logger = logging.getLogger("rasa_addons")
    project_logger.addHandler(records)
    project_logger.setLevel(logging.DEBUG)

    from rasa.core.actions.action import RemoteAction

    from rasa_addons.action_results import validate_action_result

    channels = create_http_input_channels(None, str(credentials))
    compiled = RemoteAction._validate_action_result is validate_action_result
    app = Sanic("rest_channel_check", configure_logging=False)
    agent = StandInAgent()
    app.ctx.agent = agent
    register(channels, app, route="/webhooks/")
    port = _free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.start_serving()
    base = f"http://127.0.0.1:{port}/webhooks/rest"
    out: dict[str, Any] = {
        "channels": [f"{type(c).__module__}.{type(c).__qualname__}" for c in channels],
        "names": [c.name() for c in channels],
        "compiled_validation": compiled,
    }
    try:
        async with aiohttp.ClientSession() as http:

            async def post(text: str, query: str = "", **extra: Any) -> dict[str, Any]:
                body = {"sender": SENDER, "message": text, **extra}
                async with http.post(f"{base}/webhook{query}", json=body) as answer:
                    raw = await answer.text()
                    return {
                        "status": answer.status,
                        "content_type": answer.content_type,
                        "raw": raw,
                        "json": json.loads(raw) if answer.content_type == "application/json"
                        else None,
                    }  # fmt: skip

            async with http.get(f"{base}/") as health:
                out["health"] = {"status": health.status, "json": await health.json()}
            out["failed"] = await post(FAILING_TEXT)
            out["reply"] = await post("reply", metadata={"channel": "web"})
            out["silent"] = await post("silent")
            out["cancelled"] = await post("cancelled")
            out["streamed"] = await post("reply", "?stream=true", input_channel="telegram")
            out["after_failure"] = await post("reply")  # the same connection, kept alive
    finally:
        server.close()
        await server.wait_closed()
        project_logger.removeHandler(records)
    out["seen"] = agent.seen
    out["logs"] = records.lines
    out["sender"], out["failing_text"] = SENDER, FAILING_TEXT
    return out


def main() -> int:
    """Print the report of :func:`check` on the credentials file named by argv[1]."""
    print(json.dumps(asyncio.run(check(Path(sys.argv[1])))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
