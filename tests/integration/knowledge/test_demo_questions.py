"""Customer questions about the demo company: answered with the right source, or declined.

The questions are written in a customer's words (not copied from the documents) and are not
the ones ``python -m knowledge.calibrate`` fitted the confidence model on. Acceptance: every
answerable question is answered citing one of the expected documents (and stating the key
fact where it is stable); every out-of-knowledge question is declined.
"""

from __future__ import annotations

import pytest

from knowledge.service import KnowledgeBase

pytestmark = pytest.mark.slow

FAQ = "faq.csv"
FAQ_MD = "docs/faq.md"
CATALOG = "catalog.json"

# (question, documents that may be cited first, a fact the answer must contain or None)
ANSWERABLE: list[tuple[str, set[str], str | None]] = [
    ("Is delivery to Belgium free if my order is 80 euros?",
     {"docs/shipping.md", FAQ_MD, FAQ}, "75"),
    ("do you deliver to norway", {"docs/shipping.md", FAQ_MD}, "Norway"),
    ("I live in the UK - will the courier ask me to pay import duties?",
     {"docs/shipping.md"}, "Duty Paid"),
    ("can I send back a bag of coffee I already opened?", {FAQ, "docs/returns.md"}, "opened"),
    ("how many days do I get to return something", {"docs/returns.md", FAQ, FAQ_MD}, "30 days"),
    ("how many years of warranty does the Barista Pro have?",
     {"docs/warranty.md", FAQ, FAQ_MD}, "3"),
    ("what does the KestrelCare extended warranty cost?",
     {"docs/warranty.md", CATALOG, FAQ, FAQ_MD}, "149"),
    ("what's the price of the Kestrel Mini 100?", {CATALOG, "docs/pricing.md"}, "349"),
    ("when can I get the new Talon hand grinder?", {CATALOG, FAQ, "docs/orders-and-payment.md"},
     "February"),
    ("my machine is showing E1 on the display, what does that mean?",
     {"docs/troubleshooting-espresso.md"}, None),
    ("my shots taste really bitter and burnt", {"docs/troubleshooting-espresso.md"}, None),
    ("the grinder motor runs but no grounds come out",
     {"docs/troubleshooting-grinders.md"}, None),
    ("how do I find the zero point on my Feather 54?",
     {"docs/troubleshooting-grinders.md"}, None),
    ("we have very hard water, how often should I descale?",
     {"docs/care-and-descaling.md", FAQ_MD}, None),
    ("is customer service open on saturdays?", {"docs/support-hours.md", FAQ, FAQ_MD},
     "Saturday"),
    ("what number do I call to reach customer service?",
     {FAQ, "docs/support-hours.md", FAQ_MD}, "555 0142"),
    ("can I pay with paypal?", {"docs/orders-and-payment.md", FAQ_MD, "docs/pricing.md"},
     "PayPal"),
    ("I ordered 10 minutes ago, can I still cancel it?",
     {"docs/orders-and-payment.md", FAQ}, "60 minutes"),
    ("what discount do we get if our company buys 10 machines?",
     {"docs/pricing.md", FAQ, "docs/business-solutions.md"}, "10%"),
    ("how much do you charge for installation and barista training?",
     {"docs/installation.md", "docs/pricing.md", CATALOG, FAQ}, "250"),
    ("can our office test the coffee service for free before signing up?",
     {"docs/business-solutions.md", FAQ}, "14"),
    ("do you offer webhooks for business customers?", {"docs/integrations.md"}, None),
    ("on which day is my bean subscription charged?", {"docs/subscriptions.md"}, None),
    ("can I buy a coffee subscription as a gift for someone?",
     {"docs/subscriptions.md", FAQ}, None),
    ("how long do you keep my personal data after an order?",
     {"docs/security-privacy.md"}, None),
    ("what's the address of your showroom?",
     {FAQ, "docs/support-hours.md", "docs/company.md", FAQ_MD}, "Utrecht"),
    ("is the Ethiopian coffee organic?", {FAQ, "docs/coffee-guide.md", CATALOG}, "organic"),
    ("do your people carry the cafe machine inside when they deliver it?",
     {"docs/shipping.md"}, "two-person"),
    ("will the 58mm tamper fit my Mini 100?", {FAQ, CATALOG}, "Mini 100"),
    ("how much is a new group gasket?", {"docs/repairs-and-spare-parts.md", FAQ}, "6.50"),
]  # fmt: skip

UNANSWERABLE = [
    "do you sell tea kettles?",
    "what's the capital of Peru?",
    "can you fix my car?",
    "what's the weather like in Amsterdam today?",
    "who won the last football world cup?",
    "do you sell televisions?",
    "can you recommend a good dentist?",
    "how do I reset my wifi router?",
    "what's a good recipe for chocolate cake?",
    "do you offer mortgages?",
    "can you write my history essay for me?",
    "how old is the universe?",
    "do you sell running shoes?",
    "can I rent a car from you?",
]


def _document(location: str) -> str:
    return location.split("#", 1)[0]


@pytest.mark.parametrize(("question", "documents", "fact"), ANSWERABLE)
def test_answers_with_the_right_source(
    demo_kb: KnowledgeBase, question: str, documents: set[str], fact: str | None
) -> None:
    answer = demo_kb.ask(question)
    assert answer.answered, f"declined (confidence {answer.confidence:.3f})"
    assert answer.sources, "answer without sources"
    cited = _document(answer.sources[0].location)
    assert cited in documents, f"cited {answer.sources[0].location}: {answer.text}"
    assert answer.text is not None and len(answer.text) <= 400
    if fact is not None:
        assert fact.lower() in answer.text.lower(), answer.text


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_declines_questions_outside_the_documents(demo_kb: KnowledgeBase, question: str) -> None:
    answer = demo_kb.ask(question)
    assert answer.text is None, f"answered ({answer.confidence:.3f}): {answer.text}"
    assert answer.sources == []


def test_question_sets_are_big_enough() -> None:
    assert len(ANSWERABLE) >= 24
    assert len(UNANSWERABLE) >= 12


# Follow-ups where the conversation knows the product (the action passes its id).
FOLLOW_UPS: list[tuple[str, str, set[str], str | None]] = [
    ("how much is it?", "kh-200", {CATALOG, "docs/pricing.md"}, "649"),
    ("can I return it?", "kh-200", {"docs/returns.md", FAQ, FAQ_MD}, None),
    ("is it in stock?", "b-cold", {CATALOG, FAQ}, "11 January"),
    ("how long is its warranty?", "kbp-300", {"docs/warranty.md", FAQ, FAQ_MD}, "3-year"),
    ("how big is its water tank?", "kdb-500", {CATALOG}, "3.0 l"),
]


@pytest.mark.parametrize(("question", "product_id", "documents", "fact"), FOLLOW_UPS)
def test_follow_ups_about_the_product_in_context(
    demo_kb: KnowledgeBase, question: str, product_id: str, documents: set[str], fact: str | None
) -> None:
    answer = demo_kb.ask(question, product_id=product_id)
    assert answer.answered, f"declined ({answer.confidence:.3f})"
    assert answer.question == question
    assert _document(answer.sources[0].location) in documents, answer.text
    if fact is not None:
        assert answer.text is not None and fact.lower() in answer.text.lower(), answer.text
