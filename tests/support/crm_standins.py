"""Local HTTP stand-ins for the outside systems leads are delivered to.

Each follows the documented request and response shapes of the service (HubSpot CRM v3,
Salesforce REST sObjects, Telegram Bot API, a signed Concierge webhook receiver), including
its errors: 401, 409, 429 with ``Retry-After``, 5xx and answers that never come (timeouts).
Tests queue failures with ``fail_next(...)`` or let ``chaos`` fail a share of calls at
random; every stand-in stores what it received so a test can count records.
"""

from __future__ import annotations

import json
import random
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from bot.crm.signing import IDEMPOTENCY_HEADER, verify


@dataclass
class Failure:
    """One forced answer: a status with a JSON body and headers, or a hang of ``hang`` s."""

    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0
    after_write: bool = False
    """Apply the request first, then fail (a lost answer: the retry must not duplicate)."""


@dataclass
class Chaos:
    """Fail ``rate`` of calls (half of them after applying the write); hang ``hang_rate``."""

    rate: float
    hang_rate: float = 0.0
    hang_seconds: float = 2.0
    seed: int = 7


class StandIn:
    """A threaded HTTP server on 127.0.0.1 with scripted and random failures."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str]] = []
        self.failures: list[Failure] = []
        self.chaos: Chaos | None = None
        self.rng = random.Random(7)
        self.server: ThreadingHTTPServer | None = None

    # --- what tests use -----------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail_next(self, *failures: Failure) -> None:
        with self.lock:
            self.failures.extend(failures)

    def set_chaos(self, chaos: Chaos | None) -> None:
        with self.lock:
            self.chaos = chaos
            self.rng = random.Random(chaos.seed if chaos else 7)

    @contextmanager
    def running(self) -> Iterator[Self]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once (no 40 ms stall)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if len(body) < length:
                    # The client went away mid-body (a worker killed while sending): an HTTP
                    # server never sees that as a request, so neither does the stand-in.
                    self.close_connection = True
                    return
                stand_in._dispatch(self, body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()

    # --- plumbing -----------------------------------------------------------------------
    def _next_failure(self) -> Failure | None:
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
            chaos = self.chaos
            if chaos is None:
                return None
            roll = self.rng.random()
            if roll < chaos.hang_rate:
                return Failure(hang=chaos.hang_seconds, after_write=self.rng.random() < 0.5)
            if roll < chaos.rate:
                status = self.rng.choice([500, 502, 503, 429])
                headers = {"Retry-After": "0"} if status == 429 else {}
                return Failure(status=status, headers=headers, after_write=self.rng.random() < 0.5)
            return None

    def _dispatch(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        with self.lock:
            self.calls.append((handler.command, handler.path))
        failure = self._next_failure()
        if failure is not None and not failure.after_write:
            self._fail(handler, failure)
            return
        status, answer, headers = self.handle(handler.command, handler.path, handler.headers, body)
        if failure is not None:
            self._fail(handler, failure)
            return
        self._send(handler, status, answer, headers)

    def _fail(self, handler: BaseHTTPRequestHandler, failure: Failure) -> None:
        if failure.hang:
            time.sleep(failure.hang)
            failure = Failure(status=504)
        body = failure.body if failure.body is not None else self.error_body(failure.status)
        self._send(handler, failure.status, body, failure.headers)

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, answer: Any, headers: dict[str, str]
    ) -> None:
        payload = b"" if answer is None else json.dumps(answer).encode()
        try:
            handler.send_response(status)
            for key, value in headers.items():
                handler.send_header(key, value)
            if payload:
                handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): that is the point of a hang

    def error_body(self, status: int) -> Any:
        return {"status": "error", "message": f"stand-in failure {status}"}

    def handle(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError


class WebhookReceiver(StandIn):
    """A receiver of Concierge's signed webhook that keeps one record per idempotency key."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret
        self.records: dict[str, dict[str, Any]] = {}
        self.deliveries = 0
        self.rejected = 0
        self.erased: list[str] = []

    def handle(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if method != "POST":
            return 405, {"error": "POST only"}, {}
        if not verify(self.secret, dict(headers.items()), body):
            with self.lock:
                self.rejected += 1
            return 401, {"error": "bad signature"}, {}
        key = headers.get(IDEMPOTENCY_HEADER)
        if not key:
            return 400, {"error": "Idempotency-Key is required"}, {}
        document = json.loads(body)
        if document.get("event") == "lead.erased":  # data rights: forget the lead's records
            with self.lock:
                lead_id = document["lead"]["id"]
                self.erased.append(lead_id)
                for stored_key in [
                    k for k, r in self.records.items() if r["event"]["lead"].get("id") == lead_id
                ]:
                    del self.records[stored_key]
            return 200, {"erased": lead_id}, {}
        with self.lock:
            self.deliveries += 1
            record = self.records.get(key)
            if record is None:
                record = {"id": f"rec-{len(self.records) + 1}", "event": document}
                self.records[key] = record
        return 200, {"id": record["id"]}, {}


class HubSpotStandIn(StandIn):
    """HubSpot CRM v3: contact and deal batch upserts, default associations, notes."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.contacts: dict[str, dict[str, Any]] = {}  # by email
        self.deals: dict[str, dict[str, Any]] = {}  # by unique property value
        self.associations: set[tuple[str, str]] = set()
        self.notes: list[dict[str, Any]] = []
        self.deal_id_property = "concierge_lead_id"
        self._ids = 1000
        self.gdpr_deleted: list[str] = []

    def _new_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    def error_body(self, status: int) -> Any:
        if status == 429:
            return {
                "status": "error",
                "message": "You have reached your secondly limit.",
                "errorType": "RATE_LIMIT",
                "policyName": "SECONDLY",
            }
        return {"status": "error", "message": "internal error", "category": "INTERNAL_ERROR"}

    def handle(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if headers.get("Authorization") != f"Bearer {self.token}":
            return (
                401,
                {
                    "status": "error",
                    "message": "Authentication credentials not found.",
                    "category": "INVALID_AUTHENTICATION",
                },
                {},
            )
        data = json.loads(body) if body else {}
        with self.lock:
            if method == "POST" and path == "/crm/v3/objects/contacts/batch/upsert":
                return 200, self._upsert(self.contacts, data, "email"), {}
            if method == "POST" and path == "/crm/v3/objects/deals/batch/upsert":
                return 200, self._upsert(self.deals, data, self.deal_id_property), {}
            if method == "PUT" and path.startswith("/crm/v4/objects/deals/"):
                parts = path.split(
                    "/"
                )  # /crm/v4/objects/deals/{id}/associations/default/contacts/{id}
                self.associations.add((parts[5], parts[9]))
                return 200, {"status": "COMPLETE", "results": []}, {}
            if method == "POST" and path == "/crm/v3/objects/notes":
                note = {"id": self._new_id(), **data}
                self.notes.append(note)
                return 201, {"id": note["id"], "properties": data.get("properties", {})}, {}
            if method == "POST" and path == "/crm/v3/objects/contacts/gdpr-delete":
                return self._gdpr_delete(data)
            if method == "DELETE" and path.startswith("/crm/v3/objects/deals/"):
                return self._archive_deal(path.rsplit("/", 1)[1])
            if method == "DELETE" and path.startswith("/crm/v3/objects/notes/"):
                note_id = path.rsplit("/", 1)[1]
                kept = [note for note in self.notes if note["id"] != note_id]
                if len(kept) == len(self.notes):
                    return self._not_found()
                self.notes = kept
                return 204, None, {}
        return 404, {"status": "error", "message": f"no route {method} {path}"}, {}

    @staticmethod
    def _not_found() -> tuple[int, Any, dict[str, str]]:
        return (
            404,
            {"status": "error", "message": "resource not found", "category": "OBJECT_NOT_FOUND"},
            {},
        )

    def _gdpr_delete(self, data: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        """``POST /crm/v3/objects/contacts/gdpr-delete``: by id, or by ``idProperty: email``."""
        object_id = str(data["objectId"])
        if data.get("idProperty") == "email":
            key = object_id.lower() if object_id.lower() in self.contacts else None
        else:
            key = next((k for k, c in self.contacts.items() if c["id"] == object_id), None)
        if key is None:
            return self._not_found()
        contact_id = self.contacts.pop(key)["id"]
        self.associations = {pair for pair in self.associations if pair[1] != contact_id}
        self.gdpr_deleted.append(contact_id)
        return 204, None, {}

    def _archive_deal(self, deal_id: str) -> tuple[int, Any, dict[str, str]]:
        """``DELETE /crm/v3/objects/deals/{id}``: 204, or 404 when there is no such deal."""
        key = next((k for k, d in self.deals.items() if d["id"] == deal_id), None)
        if key is None:
            return self._not_found()
        del self.deals[key]
        self.associations = {pair for pair in self.associations if pair[0] != deal_id}
        return 204, None, {}

    def _upsert(self, table: dict[str, dict[str, Any]], data: dict[str, Any], prop: str) -> Any:
        results = []
        for item in data["inputs"]:
            assert item["idProperty"] == prop, item
            key = str(item["id"]).lower() if prop == "email" else str(item["id"])
            existing = table.get(key)
            if existing is None:
                existing = {"id": self._new_id(), "properties": {}}
                table[key] = existing
                new = True
            else:
                new = False
            existing["properties"].update(item["properties"])
            results.append({"id": existing["id"], "new": new, "properties": existing["properties"]})
        return {"status": "COMPLETE", "results": results}


class SalesforceStandIn(StandIn):
    """Salesforce REST: Lead upsert by an external id field (PATCH) and read back (GET)."""

    def __init__(self, token: str, field_name: str = "Concierge_Lead_Id__c") -> None:
        super().__init__()
        self.token = token
        self.field = field_name
        self.leads: dict[str, dict[str, Any]] = {}  # by external id
        self.answer_204_on_update = False
        self.duplicates: set[str] = set()
        self._ids = 0
        self.deleted: list[str] = []

    def error_body(self, status: int) -> Any:
        return [{"message": f"stand-in failure {status}", "errorCode": "SERVER_UNAVAILABLE"}]

    def handle(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if headers.get("Authorization") != f"Bearer {self.token}":
            return (
                401,
                [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
                {},
            )
        route = path.split("?")[0]
        prefix = f"/services/data/v60.0/sobjects/Lead/{self.field}/"
        if method == "DELETE":
            return self._delete(route, prefix)
        if not route.startswith(prefix):
            return (
                404,
                [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
                {},
            )
        external = route.removeprefix(prefix)
        with self.lock:
            if external in self.duplicates:
                return 300, [f"/services/data/v60.0/sobjects/Lead/00Q{n}" for n in (1, 2)], {}
            if method == "GET":
                lead = self.leads.get(external)
                if lead is None:
                    return 404, [{"errorCode": "NOT_FOUND", "message": "not found"}], {}
                return 200, {"Id": lead["Id"], "attributes": {"type": "Lead"}}, {}
            fields = json.loads(body)
            missing = [name for name in ("LastName", "Company") if not fields.get(name)]
            if missing:
                return (
                    400,
                    [
                        {
                            "message": f"Required fields are missing: [{', '.join(missing)}]",
                            "errorCode": "REQUIRED_FIELD_MISSING",
                            "fields": missing,
                        }
                    ],
                    {},
                )
            lead = self.leads.get(external)
            if lead is None:
                self._ids += 1
                lead = {"Id": f"00Q{self._ids:015d}"}
                self.leads[external] = lead
                lead.update(fields)
                return 201, {"id": lead["Id"], "success": True, "errors": [], "created": True}, {}
            lead.update(fields)
            if self.answer_204_on_update:
                return 204, None, {}
            return 200, {"id": lead["Id"], "success": True, "errors": [], "created": False}, {}

    def _delete(self, route: str, prefix: str) -> tuple[int, Any, dict[str, str]]:
        """``DELETE .../sobjects/Lead/{Id}`` or ``.../Lead/{ExternalIdField}/{value}``: 204."""
        with self.lock:
            if route.startswith(prefix):
                external: str | None = route.removeprefix(prefix)
            else:
                record_id = route.rsplit("/", 1)[1]
                external = next((k for k, v in self.leads.items() if v["Id"] == record_id), None)
            if external is None or external not in self.leads:
                gone = [{"errorCode": "ENTITY_IS_DELETED", "message": "entity is deleted"}]
                return 404, gone, {}
            self.deleted.append(self.leads.pop(external)["Id"])
        return 204, None, {}


class TelegramStandIn(StandIn):
    """The Bot API's ``sendMessage`` for one bot token."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.messages: list[dict[str, Any]] = []

    def error_body(self, status: int) -> Any:
        if status == 429:
            return {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 3",
                "parameters": {"retry_after": 3},
            }
        return {"ok": False, "error_code": status, "description": "Internal Server Error"}

    def handle(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if path != f"/bot{self.token}/sendMessage":
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, {}
        data = json.loads(body)
        if data.get("chat_id") != "-1001":
            return (
                400,
                {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
                {},
            )
        with self.lock:
            message = {
                "message_id": len(self.messages) + 1,
                "chat": {"id": -1001},
                "text": data["text"],
            }
            self.messages.append(message)
        return 200, {"ok": True, "result": message}, {}


class SMTPStandIn:
    """A plain SMTP server (RFC 5321 subset: EHLO, MAIL, RCPT, DATA, QUIT) on 127.0.0.1.

    Recipients in ``refuse`` get 550; ``busy`` makes the greeting a 421 (try again later).
    """

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.refuse = refuse
        self.busy = False
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.server: socketserver.ThreadingTCPServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    @contextmanager
    def running(self) -> Iterator[Self]:
        stand_in = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                if stand_in.busy:
                    self.reply("421 stand-in busy, try again later")
                    return
                self.reply("220 stand-in ESMTP")
                sender, recipients = "", list[str]()
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    command = raw.decode().strip()
                    verb = command.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 stand-in")
                    elif verb == "MAIL":
                        sender, recipients = command.split(":", 1)[1].strip(" <>"), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        address = command.split(":", 1)[1].strip(" <>")
                        if address in stand_in.refuse:
                            self.reply("550 no such mailbox")
                        else:
                            recipients.append(address)
                            self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        lines = []
                        while (line := self.rfile.readline()) not in (b".\r\n", b""):
                            lines.append(line)
                        stand_in.messages.append((sender, recipients, b"".join(lines)))
                        self.reply("250 OK queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
