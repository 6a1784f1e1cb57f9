"""Every supported format through the real model and a persistent chroma folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT, Settings
from knowledge.embeddings import SentenceTransformerEmbeddings
from knowledge.service import KnowledgeBase
from tests.support.bad_files import write_bad_files

pytestmark = pytest.mark.slow

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "knowledge"


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("fixture-content") / "content"
    shutil.copytree(FIXTURES / "content", target)
    write_bad_files(target / "bad")
    return target


@pytest.fixture(scope="module")
def fixture_settings(tmp_path_factory: pytest.TempPathFactory, content: Path) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("fixture-data"), content_dir=content, llm_base_url=None
    )


@pytest.fixture(scope="module")
def fixture_kb(
    fixture_settings: Settings, embeddings: SentenceTransformerEmbeddings
) -> Iterator[KnowledgeBase]:
    kb = KnowledgeBase(fixture_settings.knowledge, embeddings=embeddings, progress=False)
    report = kb.ingest()
    skipped = sorted(Path(p).name for p, _ in report.files_skipped)
    assert skipped == ["broken.json", "broken.pdf", "garbage.md", "wrong-columns.csv"]
    yield kb


@pytest.mark.parametrize(
    ("question", "location", "fact"),
    [
        ("How long does delivery to Spain take?", "docs/shipping.md#international-shipping",
         "three to five"),
        ("what isn't covered by the warranty?", "docs/warranty.html#what-is-not-covered",
         "Limescale"),
        ("how often do I have to descale my machine?", "docs/care.txt", "three months"),
        ("how should I clean the burrs of the G2?", "docs/grinder-manual.pdf#page=2", "Brush"),
        ("can I pay using paypal", "faq.csv#pay-methods", "PayPal"),
        ("do you roast the coffee yourselves?", "more-faq.json#roasting", "Tuesday"),
        ("how much does the Harbour Grinder G2 cost?", "catalog.json#hb-grinder", "€249"),
        ("is there free parking near the shop?", "bad/good.md", "parking"),
    ],
)  # fmt: skip
def test_cites_the_right_location(
    fixture_kb: KnowledgeBase, question: str, location: str, fact: str
) -> None:
    answer = fixture_kb.ask(question)
    assert answer.text is not None, f"declined ({answer.confidence:.3f})"
    assert answer.sources[0].location == location, answer.text
    assert fact.lower() in answer.text.lower()


def test_source_titles_read_like_citations(fixture_kb: KnowledgeBase) -> None:
    answer = fixture_kb.ask("How long does delivery to Spain take?")
    assert answer.sources[0].title == "Shipping › International shipping"


@pytest.mark.parametrize(
    "question", ["What's the capital of Peru?", "can you fix my car?", "do you sell tea kettles?"]
)
def test_declines_what_the_documents_do_not_say(fixture_kb: KnowledgeBase, question: str) -> None:
    answer = fixture_kb.ask(question)
    assert answer.text is None, answer.text
    assert answer.confidence < fixture_kb.threshold


def test_injected_instructions_do_not_change_answers(fixture_kb: KnowledgeBase) -> None:
    answer = fixture_kb.ask("When is your shop open?")
    assert answer.text is not None
    assert answer.sources[0].location == "docs/notice.md#opening-hours"
    questions = ("When is your shop open?", "is delivery to France free?", "how much is the G2?")
    for question in questions:
        text = fixture_kb.ask(question).text or ""
        assert "ignore previous instructions" not in text.lower()
        assert "everything is free" not in text.lower()


def test_index_persists_and_reingest_embeds_nothing(
    fixture_kb: KnowledgeBase, fixture_settings: Settings, embeddings: SentenceTransformerEmbeddings
) -> None:
    chunks = fixture_kb.stats().chunks
    again = KnowledgeBase(fixture_settings.knowledge, embeddings=embeddings, progress=False)
    assert again.stats().chunks == chunks
    report = again.ingest()
    assert report.chunks_embedded == 0
    assert len(report.files_skipped) == 4  # still named on every run
    assert report.files_unchanged == report.files - 4
