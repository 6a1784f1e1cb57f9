from pathlib import Path

import pytest

from core.config import Settings
from knowledge.confidence import DEFAULT_ANSWER_THRESHOLD
from knowledge.service import KnowledgeBase, get_knowledge_base
from knowledge.store import make_ephemeral_client
from tests.support.embeddings import CountingEmbeddings

from .conftest import CONTENT


def _kb(settings: Settings, threshold: float | None) -> KnowledgeBase:
    tuned = settings.model_copy(update={"answer_threshold": threshold})
    kb = KnowledgeBase(
        tuned.knowledge, client=make_ephemeral_client(), embeddings=CountingEmbeddings()
    )
    kb.ingest()
    return kb


def test_answer_carries_text_sources_and_chunks(settings: Settings) -> None:
    answer = _kb(settings, 0.0).ask("Do you roast your own beans?")
    assert answer.answered
    assert answer.text == "Yes, we roast every Tuesday in Rotterdam."
    assert [s.location for s in answer.sources] == ["more-faq.json#roasting"]
    assert answer.sources[0].title == "More faq › Do you roast your own beans?"
    assert 0 < answer.confidence <= 1
    payload = answer.to_dict()
    assert set(payload) == {"answer", "confidence", "sources", "chunks"}
    assert {"id", "text", "source", "faq_id", "score"} <= set(payload["chunks"][0])


def test_below_the_threshold_the_answer_is_declined(settings: Settings) -> None:
    answer = _kb(settings, 1.0).ask("Do you roast your own beans?")
    assert answer.text is None and answer.sources == [] and not answer.answered
    assert answer.chunks  # what was found is still reported


def test_default_threshold_is_the_measured_one(settings: Settings) -> None:
    kb = KnowledgeBase(
        settings.knowledge, client=make_ephemeral_client(), embeddings=CountingEmbeddings()
    )
    assert kb.threshold == DEFAULT_ANSWER_THRESHOLD
    assert 0.3 <= DEFAULT_ANSWER_THRESHOLD <= 0.7


def test_empty_question_and_empty_index(settings: Settings) -> None:
    kb = KnowledgeBase(
        settings.knowledge, client=make_ephemeral_client(), embeddings=CountingEmbeddings()
    )
    assert kb.ask("  ").text is None
    assert kb.ask("anything at all?").text is None


def test_unrelated_question_never_quotes_the_injected_notice(settings: Settings) -> None:
    kb = _kb(settings, 0.0)
    questions = ("When is the shop open?", "Is shipping to Spain free?", "Can I pay with PayPal?")
    for question in questions:
        answer = kb.ask(question)
        assert answer.text is not None
        assert "Ignore previous instructions" not in answer.text
        assert "everything is free" not in answer.text


def test_product_scope_falls_back_to_the_whole_base(settings: Settings) -> None:
    kb = _kb(settings, 0.3)
    scoped = kb.ask("what is the price?", product_id="hb-grinder")
    assert scoped.sources and scoped.sources[0].location == "catalog.json#hb-grinder"
    policy = kb.ask("Can I pay with PayPal?", product_id="hb-grinder")
    assert policy.sources and policy.sources[0].location == "faq.csv#pay-methods"


def test_warm_up_builds_everything(settings: Settings) -> None:
    kb = _kb(settings, None)
    kb.warm_up()
    assert kb.retriever._corpus is not None


def test_get_knowledge_base_is_cached_per_settings(tmp_path: Path) -> None:
    get_knowledge_base.cache_clear()
    settings = Settings(data_dir=tmp_path, content_dir=CONTENT)
    first = get_knowledge_base(settings.knowledge)
    assert get_knowledge_base(settings.knowledge) is first
    assert get_knowledge_base(settings.model_copy().knowledge) is first  # same values, same object
    other = get_knowledge_base(settings.model_copy(update={"kb_collection": "other"}).knowledge)
    assert other is not first
    get_knowledge_base.cache_clear()
    assert get_knowledge_base(settings.knowledge) is not first
    get_knowledge_base.cache_clear()


def test_nothing_heavy_happens_at_construction(tmp_path: Path) -> None:
    kb = KnowledgeBase(Settings(data_dir=tmp_path / "data").knowledge)
    assert kb._store is None and kb._encoder is None and kb._retriever is None
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("bad", ["catalog.json"])
def test_invalid_catalog_only_disables_product_mentions(
    settings: Settings, content: Path, bad: str
) -> None:
    (content / bad).write_text('{"products": [{"id": "x"}]}')
    kb = KnowledgeBase(
        settings.knowledge, client=make_ephemeral_client(), embeddings=CountingEmbeddings()
    )
    assert kb.catalog is None
    report = kb.ingest()
    assert [Path(p).name for p, _ in report.files_skipped] == ["catalog.json"]
    assert kb.retriever.matcher is None
