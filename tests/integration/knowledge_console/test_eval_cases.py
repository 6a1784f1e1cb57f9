"""The regression cases file and the API's description, without a model."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import create_app
from core.config import PROJECT_ROOT, Settings
from knowledge import cli as kb_cli
from knowledge.eval import EvalCase, EvalCasesError, add_case, cases_path, load_cases


def test_cases_are_added_once_and_survive_a_reload(tmp_path: Path) -> None:
    path = cases_path(tmp_path)
    assert load_cases(path) == []
    assert add_case(path, EvalCase("Do you sell gift cards?", "faq.csv#faq-1"))
    assert not add_case(path, EvalCase("do you  sell gift cards?", "faq.csv#faq-1"))
    assert add_case(path, EvalCase("Do you sell gift cards?", "docs/orders-and-payment.md"))
    assert load_cases(path) == [
        EvalCase("Do you sell gift cards?", "faq.csv#faq-1"),
        EvalCase("Do you sell gift cards?", "docs/orders-and-payment.md"),
    ]
    assert path.read_text().startswith("# Regression cases")
    assert not list(tmp_path.glob(".eval-*"))  # no temporary file left behind


def test_a_location_or_a_whole_source_is_expected() -> None:
    section = EvalCase("q", "docs/returns.md#refunds")
    assert section.matches("docs/returns.md#refunds", "docs/returns.md")
    assert not section.matches("docs/returns.md#return-window", "docs/returns.md")
    source = EvalCase("q", "docs/returns.md")
    assert source.matches("docs/returns.md#anything", "docs/returns.md")
    assert not source.matches("docs/shipping.md", "docs/shipping.md")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("cases: nope\n", "needs a top-level 'cases:' list"),
        ("cases:\n- question: only a question\n", "case 1 needs 'question' and 'expect'"),
        ("cases:\n- [1, 2]\n", "case 1 is not a mapping"),
        ("cases: [\n", "cannot read eval_cases.yml"),
    ],
)
def test_a_malformed_file_is_named(tmp_path: Path, text: str, problem: str) -> None:
    path = cases_path(tmp_path)
    path.write_text(text)
    with pytest.raises(EvalCasesError, match=problem.replace("[", r"\[")):
        load_cases(path)


def test_kb_eval_refuses_a_missing_or_broken_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kb_cli.main(["kb", "eval", "--cases", str(tmp_path / "none.yml")]) == 2
    assert "no such file" in capsys.readouterr().err
    broken = tmp_path / "cases.yml"
    broken.write_text("cases: 3\n")
    assert kb_cli.main(["kb", "eval", "--cases", str(broken)]) == 2
    assert "needs a top-level 'cases:' list" in capsys.readouterr().err


def test_the_demo_cases_are_valid() -> None:
    cases = load_cases(cases_path(PROJECT_ROOT / "knowledge" / "demo"))
    assert len(cases) >= 5
    for case in cases:
        source = case.expect.split("#", 1)[0]
        assert (PROJECT_ROOT / "knowledge" / "demo" / source).is_file(), case


def test_the_console_api_is_in_the_openapi(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, content_dir=tmp_path)  # type: ignore[call-arg]
    paths = create_app(settings).openapi()["paths"]
    for path in (
        "/api/admin/knowledge/sources",
        "/api/admin/knowledge/sources/chunks",
        "/api/admin/knowledge/uploads",
        "/api/admin/knowledge/reindex",
        "/api/admin/knowledge/jobs/{job_id}",
        "/api/admin/knowledge/try",
        "/api/admin/unanswered",
        "/api/admin/unanswered/{group_id}/answer",
        "/api/admin/unanswered/{group_id}/link",
        "/api/admin/unanswered/{group_id}/dismiss",
    ):
        assert path in paths, path
    assert set(paths["/api/admin/knowledge/sources"]) == {"get", "put", "delete"}
    assert "/console/knowledge" not in paths  # pages are not part of the API
