"""The stand-in Rasa plus the tracker events API: ``POST /conversations/{id}/tracker/events``.

Like Rasa, it takes one event or a list, answers 401 without the API token and 400 when no
event has an ``event`` name, and appends them to the conversation's tracker, so the
gateway's handoff writes can be asserted from the tracker as with the real server.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import httpx

from tests.support.rasa import StandInRasa, _not_authenticated

_PREFIX = "/conversations/"
_SUFFIX = "/tracker/events"


class StandInRasaWithEvents(StandInRasa):
    """:class:`StandInRasa` that also takes appended tracker events."""

    def __init__(self) -> None:
        super().__init__()
        self.appended: list[tuple[str, list[dict[str, Any]]]] = []

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer the events API here, everything else as the stand-in does."""
        path = request.url.path
        if request.method == "POST" and path.startswith(_PREFIX) and path.endswith(_SUFFIX):
            if request.url.netloc.decode() != self._host:
                raise httpx.ConnectError("connection refused", request=request)
            token = request.url.params.get("token")
            self.calls.append({"method": "POST", "path": path, "token": token})
            if self.auth_token is not None and token != self.auth_token:
                return httpx.Response(401, json=_not_authenticated())
            if self.mode == "error":
                return httpx.Response(500, json={"status": "failure", "code": 500})
            body = json.loads(request.content or b"null")
            events = body if isinstance(body, list) else [body]
            events = [e for e in events if isinstance(e, dict) and e.get("event")]
            if not events:
                return httpx.Response(400, json={"status": "failure", "reason": "BadRequest"})
            sender = unquote(path[len(_PREFIX) : -len(_SUFFIX)])
            self.trackers.setdefault(sender, []).extend(events)
            self.appended.append((sender, events))
            return httpx.Response(200, json=self.tracker(sender))
        return await super().handle(request)

    def events_of(self, sender_id: str, kind: str) -> list[dict[str, Any]]:
        """Return the tracker's events of one kind (``user``, ``bot``, ``action``)."""
        return [e for e in self.trackers.get(sender_id, []) if e.get("event") == kind]
