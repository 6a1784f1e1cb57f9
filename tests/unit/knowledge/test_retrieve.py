from pathlib import Path

import pytest

from knowledge.service import KnowledgeBase


@pytest.fixture
def indexed(kb: KnowledgeBase) -> KnowledgeBase:
    kb.ingest()
    return kb


def test_retrieve_returns_scored_chunks_with_provenance(indexed: KnowledgeBase) -> None:
    chunks = indexed.retrieve("How long does international shipping take?", k=3)
    assert len(chunks) == 3
    assert chunks[0].location == "docs/shipping.md#international-shipping"
    assert chunks[0].heading == "Shipping › International shipping"
    assert [c.score for c in chunks] == sorted((c.score for c in chunks), reverse=True)
    assert all(0.0 <= c.score <= 1.0 and 0.0 <= c.confidence <= 1.0 for c in chunks)


def test_product_scope_filters_to_that_products_chunks(indexed: KnowledgeBase) -> None:
    chunks = indexed.retrieve("what does it cost?", k=5, product_id="hb-grinder")
    assert [c.product_id for c in chunks] == ["hb-grinder"]
    assert indexed.retrieve("anything", product_id="no-such-product") == []


def test_product_mentions_boost_their_chunk(indexed: KnowledgeBase) -> None:
    retriever = indexed.retriever
    plain = retriever.search("what does the machine cost", 5)
    named = retriever.search("what does the Espresso One cost", 5)
    assert named[0].chunk.metadata["product_id"] == "hb-espresso"
    assert named[0].product_match
    assert not any(c.product_match for c in plain)


def test_metadata_filter_and_single_retriever_modes(indexed: KnowledgeBase) -> None:
    retriever = indexed.retriever
    only_faq = retriever.search("PayPal", 5, where={"source": "faq.csv"})
    assert {c.chunk.metadata["source"] for c in only_faq} == {"faq.csv"}
    bm25 = retriever.search("PayPal iDEAL", 3, mode="bm25")
    assert bm25[0].chunk.metadata["location"] == "faq.csv#pay-methods"
    assert all(c.bm25 > 0 for c in bm25)
    dense = retriever.search("PayPal iDEAL", 3, mode="dense")
    assert len(dense) == 3


def test_new_content_is_searchable_right_after_ingest(
    indexed: KnowledgeBase, content: Path
) -> None:
    assert indexed.retrieve("zeppelin landing pad")[0].source != "docs/zeppelin.md"
    zeppelin = "# Zeppelin\n\nThe zeppelin landing pad is on the roof.\n"
    (content / "docs" / "zeppelin.md").write_text(zeppelin)
    indexed.ingest()
    assert indexed.retrieve("zeppelin landing pad")[0].source == "docs/zeppelin.md"
    indexed.remove("docs/zeppelin.md")
    assert all(c.source != "docs/zeppelin.md" for c in indexed.retrieve("zeppelin landing pad"))


def test_empty_index_and_empty_question(kb: KnowledgeBase) -> None:
    assert kb.retrieve("anything") == []
    kb.ingest()
    assert kb.retrieve("   ") == []


def test_confidence_uses_absolute_signals(indexed: KnowledgeBase) -> None:
    good = indexed.retriever.search("Can I pay with PayPal?", 1)[0]
    bad = indexed.retriever.search("quantum chromodynamics lattice", 1)[0]
    assert good.coverage == 1.0 and bad.coverage == 0.0
    assert bad.novelty == 1.0
    assert good.confidence > bad.confidence


def test_reciprocal_rank_fusion_is_available(indexed: KnowledgeBase) -> None:
    retriever = indexed.retriever
    retriever.fusion = "rrf"
    try:
        found = retriever.search("Can I pay with PayPal?", 3)
    finally:
        retriever.fusion = "weighted"
    assert found[0].chunk.metadata["location"] == "faq.csv#pay-methods"
    assert 0 < found[0].fused <= 1.0
