from pathlib import Path

import pytest

from knowledge.service import KnowledgeBase
from tests.support.bad_files import write_bad_files
from tests.support.embeddings import CountingEmbeddings

EXPECTED_SOURCES = {
    "catalog.json",
    "docs/care.txt",
    "docs/grinder-manual.pdf",
    "docs/notice.md",
    "docs/shipping.md",
    "docs/warranty.html",
    "faq.csv",
    "more-faq.json",
}


def test_ingests_every_format_with_provenance(kb: KnowledgeBase) -> None:
    report = kb.ingest()
    assert report.files == len(EXPECTED_SOURCES)
    assert report.files_skipped == []
    assert report.chunks_added == report.chunks_embedded > 0
    stats = kb.stats()
    assert {s.source for s in stats.sources} == EXPECTED_SOURCES  # README.md is not indexed
    assert stats.chunks == report.chunks_added
    assert stats.documents == len(EXPECTED_SOURCES)
    assert stats.last_indexed is not None and stats.last_indexed.startswith("20")
    metas = {c.metadata["location"]: c.metadata for c in kb.store.iter_chunks()}
    assert metas["docs/shipping.md#international-shipping"]["heading"] == (
        "Shipping › International shipping"
    )
    assert metas["faq.csv#pay-methods"]["faq_id"] == "pay-methods"
    assert metas["more-faq.json#faq-2"]["faq_id"] == "faq-2"
    assert metas["catalog.json#hb-grinder"]["product_id"] == "hb-grinder"
    assert metas["docs/grinder-manual.pdf#page=2"]["title"] == "Harbour Grinder G2 manual"
    assert metas["docs/warranty.html#claims"]["kind"] == "html"
    for meta in metas.values():
        assert {"source", "title", "heading", "location", "content_hash", "file_hash",
                "indexed_at"} <= set(meta)  # fmt: skip


def test_reingesting_unchanged_files_embeds_nothing(
    kb: KnowledgeBase, fake_embeddings: CountingEmbeddings
) -> None:
    kb.ingest()
    before = fake_embeddings.embedded
    report = kb.ingest()
    assert fake_embeddings.embedded == before
    assert (report.chunks_added, report.chunks_updated, report.chunks_removed) == (0, 0, 0)
    assert report.chunks_embedded == 0
    assert report.files_unchanged == report.files == len(EXPECTED_SOURCES)


def test_changed_file_replaces_its_chunks_and_reuses_unchanged_text(
    kb: KnowledgeBase, content: Path, fake_embeddings: CountingEmbeddings
) -> None:
    kb.ingest()
    shipping = content / "docs" / "shipping.md"
    shipping.write_text(
        shipping.read_text().replace("costs €12", "costs €15")
        + "\n## Returns by post\n\nReturn labels cost €5.\n"
    )
    before = fake_embeddings.embedded
    report = kb.ingest()
    assert report.files_unchanged == len(EXPECTED_SOURCES) - 1
    assert report.chunks_added == 0
    # the edited section and the new one are embedded again; the rest keep their vectors
    assert report.chunks_embedded == fake_embeddings.embedded - before == 2
    assert report.chunks_updated == 2
    assert report.chunks_removed == 1
    texts = [c.text for c in kb.store.iter_chunks() if c.metadata["source"] == "docs/shipping.md"]
    assert any("€15" in t for t in texts) and not any("€12" in t for t in texts)
    assert any("Return labels cost €5." in t for t in texts)
    assert len(texts) == 5


def test_moved_sections_keep_their_vectors(
    kb: KnowledgeBase, content: Path, fake_embeddings: CountingEmbeddings
) -> None:
    kb.ingest()
    shipping = content / "docs" / "shipping.md"
    text = shipping.read_text()
    notice = "## Notice\n\nClosed on Sunday.\n\n## Delivery times"
    shipping.write_text(text.replace("## Delivery times", notice))
    before = fake_embeddings.embedded
    report = kb.ingest()
    assert fake_embeddings.embedded - before == 1  # only the new section
    assert report.chunks_updated == 4  # three sections moved one position (new ids)
    assert report.chunks_removed == 3
    assert kb.stats().chunks == len(list(kb.store.iter_chunks()))


def test_deleted_file_leaves_the_index(kb: KnowledgeBase, content: Path) -> None:
    kb.ingest()
    chunks = kb.stats().chunks
    faq_chunks = next(s.chunks for s in kb.stats().sources if s.source == "faq.csv")
    (content / "faq.csv").unlink()
    report = kb.ingest()
    assert report.files_removed == 1
    assert report.chunks_removed == faq_chunks
    assert kb.stats().chunks == chunks - faq_chunks
    assert "faq.csv" not in {s.source for s in kb.stats().sources}


def test_bad_files_are_skipped_by_name_and_the_rest_is_indexed(
    kb: KnowledgeBase, content: Path
) -> None:
    write_bad_files(content / "bad")
    report = kb.ingest()
    skipped = {Path(path).name: reason for path, reason in report.files_skipped}
    assert set(skipped) == {"garbage.md", "broken.pdf", "wrong-columns.csv", "broken.json"}
    assert "UTF-8" in skipped["garbage.md"]
    assert "bad/good.md" in {s.source for s in kb.stats().sources}
    assert report.files == len(EXPECTED_SOURCES) + 5


def test_broken_update_keeps_the_last_good_version(kb: KnowledgeBase, content: Path) -> None:
    kb.ingest()
    (content / "more-faq.json").write_text("[{broken")
    report = kb.ingest()
    assert [Path(p).name for p, _ in report.files_skipped] == ["more-faq.json"]
    assert "more-faq.json" in {s.source for s in kb.stats().sources}


def test_single_files_and_files_outside_the_content_root(
    kb: KnowledgeBase, content: Path, tmp_path: Path
) -> None:
    report = kb.ingest([content / "docs" / "care.txt"])
    assert report.files == 1 and kb.stats().documents == 1
    outside = tmp_path / "elsewhere" / "parking.md"
    outside.parent.mkdir()
    outside.write_text("# Parking\n\nFree parking behind the shop.\n")
    kb.ingest([outside])
    sources = {s.source for s in kb.stats().sources}
    assert outside.resolve().as_posix() in sources
    unsupported = tmp_path / "slides.pptx"
    unsupported.write_bytes(b"x")
    report = kb.ingest([unsupported])
    assert report.files_skipped == [(str(unsupported), "unsupported file type .pptx")]


def test_missing_path_raises_before_changing_anything(kb: KnowledgeBase, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        kb.ingest([tmp_path / "nope"])
    assert kb.stats().chunks == 0


def test_remove_by_source_or_folder(kb: KnowledgeBase, content: Path) -> None:
    kb.ingest()
    total = kb.stats().chunks
    removed = kb.remove("docs/shipping.md")
    assert removed == 4
    assert kb.stats().chunks == total - 4
    assert kb.remove(str(content / "docs")) > 0
    assert {s.source for s in kb.stats().sources} == {"catalog.json", "faq.csv", "more-faq.json"}
    assert kb.remove("nothing/here.md") == 0
