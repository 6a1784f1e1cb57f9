"""The staff dependencies' building blocks: roles, redirects, CSRF comparison."""

from __future__ import annotations

import pytest

from bot.auth.csrf import new_csrf_token, tokens_match
from bot.auth.staff import ROLES_ATTRIBUTE, is_api_path, require_role, signin_url
from bot.routers.auth import safe_next


def test_require_role_knows_its_roles_and_refuses_unknown_ones() -> None:
    check = require_role("support", "sales")
    assert getattr(check, ROLES_ATTRIBUTE) == {"support", "sales"}
    with pytest.raises(ValueError, match="roles must be"):
        require_role("owner")
    with pytest.raises(ValueError, match="roles must be"):
        require_role()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "/console"),
        ("", "/console"),
        ("/console?tab=queue", "/console?tab=queue"),
        ("//evil.example", "/console"),
        ("https://evil.example", "/console"),
        ("/\\evil.example", "/console"),
        ("/signout", "/console"),
        ("console", "/console"),
    ],
)
def test_only_local_paths_are_redirect_targets(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


def test_sign_in_links_and_api_paths() -> None:
    assert signin_url("/console") == "/signin?next=/console"
    assert signin_url("/a b") == "/signin?next=/a%20b"
    assert is_api_path("/api/admin/users") and not is_api_path("/console")


def test_csrf_tokens_are_random_and_compared_exactly() -> None:
    token = new_csrf_token()
    assert token != new_csrf_token() and len(token) >= 40
    assert tokens_match(token, token)
    assert not tokens_match(token, token[:-1])
    assert not tokens_match(None, token) and not tokens_match("", "")
