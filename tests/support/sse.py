"""Reading a server-sent event stream in tests, one event at a time, with a bounded wait."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Event:
    """One event of the stream."""

    id: str | None
    event: str
    data: Any


class EventReader:
    """Reads an open stream in a thread; :meth:`next` waits for the next event."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._events: queue.Queue[Event | BaseException] = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for line in self.response.iter_lines():
                if line == "":
                    if "data" in fields:
                        data = fields["data"]
                        self._events.put(
                            Event(
                                fields.get("id"), fields.get("event", "message"), json.loads(data)
                            )
                        )
                    fields = {}
                    continue
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                fields[name] = f"{fields[name]}\n{value}" if name in fields else value
        except (httpx.HTTPError, RuntimeError) as error:  # the test closed the stream
            self._events.put(error)

    def next(self, timeout: float = 10.0) -> Event:
        """Return the next event; fail when none arrives within ``timeout`` seconds."""
        try:
            item = self._events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout} s") from None
        if isinstance(item, BaseException):
            raise AssertionError(f"the stream ended: {item}")
        return item

    def none_within(self, timeout: float) -> bool:
        """Whether no further event arrives within ``timeout`` seconds."""
        try:
            item = self._events.get(timeout=timeout)
        except queue.Empty:
            return True
        self._events.put(item)
        return False


@contextmanager
def open_stream(
    base_url: str, token: str | None, last_event_id: str | None = None
) -> Iterator[tuple[httpx.Response, EventReader | None]]:
    """Open ``GET /api/chat/events``; yield the response and, when it is a stream, a reader."""
    headers = {"Accept": "text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    with (
        httpx.Client(base_url=base_url, timeout=httpx.Timeout(10, read=None)) as client,
        client.stream("GET", "/api/chat/events", headers=headers) as response,
    ):
        if response.status_code != 200:
            response.read()
            yield response, None
            return
        try:
            yield response, EventReader(response)
        finally:
            _hang_up(response)


def _hang_up(response: httpx.Response) -> None:
    """Close the stream's socket, so the server sees the client leave at once.

    The reader thread is blocked reading it; closing the response alone would leave the
    connection open until that read returns.
    """
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
