"""Argon2id hashing and the rules for new passwords."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from bot.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    WeakPassword,
    hash_password,
    needs_rehash,
    verify_password,
)

GOOD = "correct horse battery staple"


def test_a_hash_is_argon2id_salted_and_verifies() -> None:
    one, two = hash_password(GOOD), hash_password(GOOD)
    assert one.startswith("$argon2id$") and one != two
    assert verify_password(one, GOOD)
    assert not verify_password(one, GOOD + " ")
    assert not verify_password(one, "")


def test_no_hash_or_a_broken_one_never_verifies() -> None:
    assert not verify_password(None, GOOD)
    assert not verify_password("", GOOD)
    assert not verify_password("$argon2id$broken", GOOD)
    assert not verify_password(hash_password(GOOD), "x" * (MAX_PASSWORD_LENGTH + 1))


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short", "at least 12"), (" " * 20, "only spaces"), ("x" * 1025, "at most 1024")],
)
def test_weak_passwords_are_refused(password: str, reason: str) -> None:
    with pytest.raises(WeakPassword, match=reason):
        hash_password(password)


def test_hashes_with_older_parameters_need_a_rehash() -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(GOOD)
    assert needs_rehash(old)
    assert not needs_rehash(hash_password(GOOD))
    assert verify_password(old, GOOD)
