import argparse
import json
from pathlib import Path

import pytest

from core.config import Settings
from knowledge import cli
from knowledge.service import KnowledgeBase
from knowledge.store import make_ephemeral_client
from tests.support.embeddings import CountingEmbeddings


@pytest.fixture
def fake_kb(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> KnowledgeBase:
    kb = KnowledgeBase(
        settings.model_copy(update={"answer_threshold": 0.0}).knowledge,
        client=make_ephemeral_client(),
        embeddings=CountingEmbeddings(),
        progress=False,
    )
    monkeypatch.setattr(cli, "_knowledge_base", lambda _settings: kb)
    return kb


def _run(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args, settings)
    return code


def test_register_adds_kb_subcommands_with_handlers() -> None:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    for argv, handler in (
        (["kb", "ingest"], cli._cmd_ingest),
        (["kb", "stats", "--json"], cli._cmd_stats),
        (["kb", "remove", "faq.csv"], cli._cmd_remove),
        (["kb", "query", "hi", "--k", "3", "--product", "x"], cli._cmd_query),
    ):
        assert parser.parse_args(argv).handler is handler


def test_ingest_stats_query_remove(
    fake_kb: KnowledgeBase, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["kb", "ingest"], settings) == 0
    assert "Indexed 8 files" in capsys.readouterr().out

    assert _run(["kb", "stats", "--json"], settings) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["documents"] == 8 and stats["chunks"] > 8

    assert _run(["kb", "query", "Can I pay with PayPal?", "--json", "--k", "2"], settings) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"answer", "confidence", "sources", "chunks"}
    assert "PayPal" in payload["answer"]
    assert payload["sources"][0] == {"title": "FAQ › Can I pay with PayPal?",
                                     "location": "faq.csv#pay-methods"}  # fmt: skip
    assert len(payload["chunks"]) == 2
    assert payload["chunks"][0]["faq_id"] == "pay-methods"

    assert _run(["kb", "query", "Can I pay with PayPal?"], settings) == 0
    human = capsys.readouterr().out
    assert "Answer: Yes, we accept PayPal" in human and "Confidence:" in human

    assert _run(["kb", "remove", "faq.csv"], settings) == 0
    assert "Removed 3 chunks" in capsys.readouterr().out
    assert _run(["kb", "remove", "faq.csv"], settings) == 1


def test_ingest_lists_skipped_files_and_exits_zero(
    fake_kb: KnowledgeBase, settings: Settings, bad_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["kb", "ingest", str(bad_dir)], settings) == 0
    out = capsys.readouterr().out
    assert "Skipped 4 files:" in out
    for name in ("garbage.md", "broken.pdf", "wrong-columns.csv", "broken.json"):
        assert name in out


def test_missing_path_exits_2(
    fake_kb: KnowledgeBase, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["kb", "ingest", str(tmp_path / "nope")], settings) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_batch_prints_one_json_object_per_line(
    fake_kb: KnowledgeBase, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(["kb", "ingest"], settings)
    capsys.readouterr()
    batch = tmp_path / "questions.txt"
    batch.write_text("Can I pay with PayPal?\n\nDo you roast your own beans?\n")
    assert _run(["kb", "query", "--batch", str(batch), "--json"], settings) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    rows = [json.loads(line) for line in lines]
    questions = [r["question"] for r in rows]
    assert questions == ["Can I pay with PayPal?", "Do you roast your own beans?"]
    assert all({"answer", "confidence", "sources", "chunks"} <= set(r) for r in rows)


def test_query_usage_errors(fake_kb: KnowledgeBase, settings: Settings) -> None:
    assert _run(["kb", "query"], settings) == 2
    assert _run(["kb", "query", "x", "--k", "0"], settings) == 2
    assert _run(["kb", "query", "--batch", "/nonexistent/file.txt"], settings) == 2
