"""Signed webhooks: HMAC-SHA256 over ``"<timestamp>.<raw body>"``, in the style of Stripe.

The sender puts the Unix time in ``X-Concierge-Timestamp`` and
``sha256=<hex digest>`` in ``X-Concierge-Signature``; a receiver recomputes the digest with
the shared secret and refuses old timestamps (replays). docs/crm.md has a receiver to copy.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Concierge-Timestamp"
SIGNATURE_HEADER = "X-Concierge-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Return ``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``."""
    message = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: bytes, idempotency_key: str, now: float | None = None
) -> dict[str, str]:
    """Return the headers of one signed webhook request."""
    timestamp = str(int(now if now is not None else time.time()))
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        IDEMPOTENCY_HEADER: idempotency_key,
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Whether ``body`` carries a valid signature made within ``tolerance_seconds``."""
    lowered = {key.lower(): value for key, value in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not timestamp.isdigit() or not given.startswith("sha256="):
        return False
    current = now if now is not None else time.time()
    if abs(current - int(timestamp)) > tolerance_seconds:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), given)
