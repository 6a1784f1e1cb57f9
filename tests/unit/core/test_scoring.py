"""Lead scoring: the committed rules load, each signal gives its points, bad files are named."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT
from core.scoring import ScoringRulesError, grade_for, load_scoring_rules, score_lead
from core.storage.leads import LeadDetails

RULES_PATH = PROJECT_ROOT / "knowledge" / "demo" / "scoring.yml"


@pytest.fixture(scope="module")
def rules():  # type: ignore[no-untyped-def]
    return load_scoring_rules(RULES_PATH)


def details(**values: object) -> LeadDetails:
    return LeadDetails(conversation_id="c1", channel="web", email="a@b.co", **values)  # type: ignore[arg-type]


def test_an_empty_lead_scores_zero_and_is_cold(rules) -> None:  # type: ignore[no-untyped-def]
    score = score_lead(details(), rules)
    assert (score.value, score.grade, score.reasons) == (0, "cold", ())


def test_each_signal_adds_its_points_with_a_reason(rules) -> None:  # type: ignore[no-untyped-def]
    score = score_lead(
        details(
            budget=Decimal("5000"),
            currency="EUR",
            role="Office Manager",
            need="coffee for the office",
            team_size=40,
            timeline="within the next month",
            products_asked=("a", "b"),
            quote_numbers=("Q-2026-000001",),
        ),
        rules,
    )
    by_rule = {reason.rule: reason for reason in score.reasons}
    assert by_rule["budget"].points == 18
    assert "EUR 5,000" in by_rule["budget"].detail
    assert by_rule["authority"].points == 12
    assert by_rule["need"].points == 10
    assert by_rule["team_size"].points == 7
    assert by_rule["timeline"].points == 12
    assert by_rule["products_asked"].points == 6
    assert by_rule["quotes"].points == 6
    assert score.value == sum(reason.points for reason in score.reasons) == 71
    assert score.grade == "hot"


def test_words_match_whole_words_only(rules) -> None:  # type: ignore[no-untyped-def]
    # "know" must not match the timeline word "now"; "headphones" not the role word "head".
    score = score_lead(details(timeline="I don't know", role="headphones tester"), rules)
    assert score.reasons == ()


def test_engagement_points_stop_at_their_maximum(rules) -> None:  # type: ignore[no-untyped-def]
    score = score_lead(details(products_asked=tuple("abcdefg")), rules)
    assert [(r.rule, r.points) for r in score.reasons] == [("products_asked", 9)]


def test_the_score_is_capped_at_100(tmp_path: Path, rules) -> None:  # type: ignore[no-untyped-def]
    text = RULES_PATH.read_text().replace("stated: 10", "stated: 90")
    (tmp_path / "scoring.yml").write_text(text)
    generous = load_scoring_rules(tmp_path / "scoring.yml")
    score = score_lead(details(need="x", budget=Decimal(20000)), generous)
    assert score.value == 100 and score.grade == "hot"


def test_grades_follow_the_thresholds(rules) -> None:  # type: ignore[no-untyped-def]
    assert grade_for(70, rules) == "hot"
    assert grade_for(69, rules) == "warm"
    assert grade_for(40, rules) == "warm"
    assert grade_for(39, rules) == "cold"


def test_a_foreign_currency_budget_says_it_was_not_converted(rules) -> None:  # type: ignore[no-untyped-def]
    score = score_lead(details(budget=Decimal(3000), currency="USD"), rules)
    assert "not converted" in score.reasons[0].detail


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (("{min: 10000, points: 25}", "{min: 10000, pointz: 25}"), "budget.0.pointz"),
        (("hot: 70", "hot: 30"), "thresholds"),
        (("currency: EUR", "currency: euro"), "currency"),
        (("  stated: 10", "  stated: lots"), "need.stated"),
    ],
)
def test_a_bad_rules_file_names_the_bad_key(
    tmp_path: Path, change: tuple[str, str], named: str
) -> None:
    path = tmp_path / "scoring.yml"
    text = RULES_PATH.read_text()
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(ScoringRulesError, match=named.replace(".", r"\.")):
        load_scoring_rules(path)


def test_missing_and_unparsable_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ScoringRulesError, match="no scoring rules file"):
        load_scoring_rules(tmp_path / "absent.yml")
    (tmp_path / "broken.yml").write_text("budget: [\n")
    with pytest.raises(ScoringRulesError, match="not valid YAML"):
        load_scoring_rules(tmp_path / "broken.yml")


def test_reasons_read_as_sentences(rules) -> None:  # type: ignore[no-untyped-def]
    score = score_lead(details(products_asked=("a", "b"), quote_numbers=("Q-1",)), rules)
    assert [r.detail for r in score.reasons] == [
        "2 products asked about (3 each, at most 9)",
        "1 quote (6 each, at most 12)",
    ]


def test_the_worked_example_in_the_docs_is_what_the_code_computes(rules) -> None:  # type: ignore[no-untyped-def]
    page = (PROJECT_ROOT / "docs" / "scoring.md").read_text()
    table = page.split("<!-- worked-example -->")[1].split("<!-- /worked-example -->")[0]
    score = score_lead(
        details(
            name="Ana Pérez",
            company="Perez & Co",
            role="Office Manager",
            team_size=40,
            budget=Decimal("5000"),
            currency="EUR",
            timeline="next month",
            need="coffee for a 40-person office",
            products_asked=("kestrel-batch-brewer", "office-bean-subscription"),
            quote_numbers=("Q-2026-000042",),
        ),
        rules,
    )
    rows = [f"| {reason.rule} | {reason.points} | {reason.detail} |" for reason in score.reasons]
    rows.append(f"| **total** | **{score.value}** | **{score.grade}** (at least 70) |")
    assert [line for line in table.strip().splitlines()[2:]] == rows
