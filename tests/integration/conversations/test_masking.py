"""What the support role's masking hides and what it leaves readable."""

from __future__ import annotations

import pytest

from bot.services.masking import Masker, looks_like_contact_data, sees_contact_data


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("mail me: Jo.Doe+x@mail.example.co.uk!", "mail me: [email]!"),
        ("call +49 170 1234567 today", "call [phone] today"),
        ("or (030) 123-45-67", "or [phone]"),
        ("0044 20 7946 0958", "[phone]"),
        ("mobile 01701234567", "mobile [phone]"),
        ("order 12345678 arrived", "order 12345678 arrived"),
        ("quote Q-2026-00012 is EUR 2,972.62", "quote Q-2026-00012 is EUR 2,972.62"),
        ("delivery on 2026-12-24 for 40 people", "delivery on 2026-12-24 for 40 people"),
        ("write to support@kestrelcoffee.eu", "write to support@kestrelcoffee.eu"),
    ],
)
def test_contact_data_is_masked_for_support(text: str, masked: str) -> None:
    masker = Masker.for_role("support", keep=["support@kestrelcoffee.eu"])
    assert masker.text(text) == masked


def test_known_names_and_their_parts_are_masked_whole_words_only() -> None:
    masker = Masker.for_role("support", ["Anna-Lena Schmidt", None, "Li"])
    assert masker.text("I'm anna-lena schmidt") == "I'm [name]"
    assert masker.text("Schmidt here, Anna-Lena speaking") == "[name] here, [name] speaking"
    assert masker.text("Schmidtke and Lisbon are not names of hers") == (
        "Schmidtke and Lisbon are not names of hers"
    )
    assert masker.text("Li called") == "[name] called"
    assert masker.name("Anna-Lena Schmidt") == "[name]" and masker.email("a@b.de") == "[email]"
    assert masker.phone("+49 1") == "[phone]" and masker.text(None) is None


@pytest.mark.parametrize("role", ["sales", "admin"])
def test_sales_and_admin_see_everything(role: str) -> None:
    masker = Masker.for_role(role, ["Anna Schmidt"])
    text = "Anna Schmidt, anna@example.org, +49 170 1234567"
    assert masker.text(text) == text and not masker.enabled and sees_contact_data(role)
    assert masker.email("anna@example.org") == "anna@example.org"


def test_search_terms_that_are_contact_data() -> None:
    assert looks_like_contact_data("anna@example.org")
    assert looks_like_contact_data("+49 170 1234567")
    assert not looks_like_contact_data("espresso grinder 2026-12-02")
