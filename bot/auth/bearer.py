"""Reading ``Authorization: Bearer ...`` and refusing requests with a 401 that says why."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, status

BEARER_PREFIX = "bearer "


class Unauthorized(HTTPException):
    """A 401 with a sentence for the client and the ``WWW-Authenticate`` header RFC 6750 asks."""

    def __init__(self, message: str, *, error: str = "invalid_token") -> None:
        super().__init__(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=message,
            headers={"WWW-Authenticate": f'Bearer error="{error}"'},
        )


def bearer_token(request: Request) -> str | None:
    """Return the request's bearer token, None without an Authorization header.

    Raises :class:`Unauthorized` for an Authorization header that is not ``Bearer <token>``.
    """
    header = request.headers.get("authorization")
    if header is None:
        return None
    if not header.lower().startswith(BEARER_PREFIX) or not header[len(BEARER_PREFIX) :].strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return header[len(BEARER_PREFIX) :].strip()


def same_secret(given: str, expected: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())
