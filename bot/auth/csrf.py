"""CSRF tokens: one per session for signed-in forms, a cookie-bound one for the sign-in form.

Every POST of a signed-in page sends the session's token (form field ``csrf_token`` or the
``X-CSRF-Token`` header); the sign-in form, which has no session yet, sends the token of a
short-lived cookie set with the form (double submit), so another site cannot sign a browser
in to an account of its choosing.
"""

from __future__ import annotations

import hmac
import secrets

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SIGNIN_CSRF_COOKIE = "concierge_signin_csrf"
SIGNIN_CSRF_MAX_AGE = 3600
"""Seconds the sign-in form stays usable before it must be reloaded."""
CSRF_REFUSED = "the form has expired or did not come from this site: reload the page and try again"


def new_csrf_token() -> str:
    """Return a fresh random token."""
    return secrets.token_urlsafe(32)


def tokens_match(given: str | None, expected: str | None) -> bool:
    """Whether ``given`` is the expected token (constant time; missing never matches)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
