"""Password hashing with Argon2id (argon2-cffi), and the rules a new password must meet."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
"""Longest password accepted (hashing an unbounded input is a denial-of-service lever)."""


class WeakPassword(ValueError):
    """A new password that does not meet :func:`check_new_password`."""


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    """Return the hasher (argon2-cffi's RFC 9106 low-memory profile, Argon2id)."""
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hasher().hash("not a password of anyone")


def check_new_password(password: str) -> str:
    """Return ``password`` when it is long enough to set, else raise :class:`WeakPassword`."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"the password must be at most {MAX_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise WeakPassword("the password must not be only spaces")
    return password


def hash_password(password: str) -> str:
    """Return the Argon2id hash of a new password (checked by :func:`check_new_password`)."""
    return hasher().hash(check_new_password(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; without a hash, spend the same time."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return hasher().verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether ``stored_hash`` was made with older parameters than the hasher's."""
    return hasher().check_needs_rehash(stored_hash)


def rehash_password(password: str) -> str:
    """Return a hash with the current parameters for a password that just verified."""
    return hasher().hash(password)
