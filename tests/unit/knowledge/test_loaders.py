from pathlib import Path

import pytest

from knowledge.loaders import LoaderError, load, parse_markdown
from knowledge.markdown import heading_anchors
from knowledge.splitting import split_document
from tests.support.pdf import write_pdf

from .conftest import CONTENT


def test_markdown_sections_keep_heading_path_and_anchor() -> None:
    doc = load(CONTENT / "docs" / "shipping.md")
    assert doc.title == "Shipping"
    assert [(s.headings, s.anchor) for s in doc.sections] == [
        ((), None),
        (("Delivery times",), "delivery-times"),
        (("International shipping",), "international-shipping"),
        (("International shipping", "Customs"), "customs"),
    ]


def test_markdown_ignores_headings_in_code_and_reads_front_matter() -> None:
    text = (
        "---\ntitle: Guide\n---\nIntro.\n\n```\n# not a heading\n```\n\n"
        "## Step\n\nDo it.\n\n## Step\n\nAgain."
    )
    doc = parse_markdown(text, "fallback")
    assert doc.title == "Guide"
    assert "# not a heading" in doc.sections[0].text
    assert [s.anchor for s in doc.sections] == [None, "step", "step-1"]


def test_heading_anchors_deduplicate_like_github() -> None:
    headings = ["Returns", "Returns", "Returns & Refunds", "???", "returns", "!!"]
    assert heading_anchors(headings) == [
        "returns",
        "returns-1",
        "returns--refunds",
        "section",
        "returns-2",
        "section-1",
    ]


def test_markdown_title_and_headings_follow_commonmark() -> None:
    text = (
        "---\ntitle: From front matter\n---\n# Opening\n\nIntro.\n\n## Empty\n### Below\n\n"
        "Text.\n\nSetext\n------\n\nMore.\n\n~~~\n## fenced\n~~~\n"
    )
    doc = parse_markdown(text, "fallback")
    assert doc.title == "From front matter"
    assert [(s.headings, s.anchor) for s in doc.sections] == [
        ((), None),
        (("Empty", "Below"), "below"),
        (("Setext",), "setext"),
    ]
    assert "## fenced" in doc.sections[-1].text
    late = parse_markdown("Intro first.\n\n# Late title\n\nBody.", "Fallback")
    assert late.title == "Fallback"
    assert [s.anchor for s in late.sections] == [None, "late-title"]


def test_html_drops_script_style_and_navigation() -> None:
    doc = load(CONTENT / "docs" / "warranty.html")
    text = "\n".join(s.text for s in doc.sections)
    assert doc.title == "Warranty"
    assert "two-year warranty" in text
    assert "Limescale damage" in text
    for unwanted in ("trackingPixel", "font-family", "Navigation menu", "console.log"):
        assert unwanted not in text
    assert [s.anchor for s in doc.sections] == [None, "what-is-not-covered", "claims"]


def test_plain_text_is_one_section_titled_by_file_name() -> None:
    doc = load(CONTENT / "docs" / "care.txt")
    assert doc.title == "Care"
    assert len(doc.sections) == 1 and "Descale" in doc.sections[0].text


def test_pdf_pages_become_sections(tmp_path: Path) -> None:
    doc = load(CONTENT / "docs" / "grinder-manual.pdf")
    assert doc.title == "Harbour Grinder G2 manual"
    assert [s.anchor for s in doc.sections] == ["page=1", "page=2"]
    assert "never wash them with water" in doc.sections[1].text
    untitled = load(write_pdf(tmp_path / "spec-sheet.pdf", [["Only one page."]]))
    assert untitled.title == "Spec sheet"


def test_faq_csv_one_pair_per_section_with_ids() -> None:
    doc = load(CONTENT / "faq.csv")
    assert doc.title == "FAQ"
    assert [s.faq_id for s in doc.sections] == ["faq-1", "pay-methods", "faq-3"]
    assert doc.sections[0].text.startswith("Q: Do you sell gift vouchers?\nA: Yes")
    assert all(s.atomic for s in doc.sections)


def test_faq_json_uses_id_or_row_number() -> None:
    doc = load(CONTENT / "more-faq.json")
    assert [s.faq_id for s in doc.sections] == ["roasting", "faq-2"]


def test_catalog_renders_one_section_per_product() -> None:
    doc = load(CONTENT / "catalog.json")
    assert doc.kind == "catalog"
    assert [s.product_id for s in doc.sections] == ["hb-espresso", "hb-grinder", "hb-plan"]
    grinder = doc.sections[1].text
    for fact in ("€249", "only a few left", "54 mm flat", "espresso grinding"):
        assert fact in grinder
    assert "€149 per month" in doc.sections[2].text


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("garbage.md", "not valid UTF-8"),
        ("broken.pdf", "cannot read PDF"),
        ("wrong-columns.csv", "'question' and 'answer' columns"),
        ("broken.json", "malformed JSON"),
    ],
)
def test_bad_files_raise_loader_error_with_reason(bad_dir: Path, name: str, reason: str) -> None:
    with pytest.raises(LoaderError, match=reason):
        load(bad_dir / name)


def test_other_errors(tmp_path: Path) -> None:
    binary = tmp_path / "image.md"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(LoaderError, match="binary"):
        load(binary)
    with pytest.raises(LoaderError, match="unsupported"):
        load(tmp_path / "slides.pptx")
    catalog = tmp_path / "catalog.json"
    catalog.write_text('{"products": [{"id": "x", "name": "X", "category": "grinders"}]}')
    with pytest.raises(LoaderError, match="price"):
        load(catalog)
    empty_pdf = write_pdf(tmp_path / "blank.pdf", [[]])
    with pytest.raises(LoaderError, match="no extractable text"):
        load(empty_pdf)


def test_split_document_metadata_and_deterministic_ids() -> None:
    doc = load(CONTENT / "docs" / "shipping.md")
    first = split_document(doc, "docs/shipping.md")
    second = split_document(doc, "docs/shipping.md")
    assert [c.id for c in first] == [c.id for c in second]
    customs = first[-1]
    assert customs.text.startswith("Shipping › International shipping › Customs\n\n")
    assert customs.metadata["location"] == "docs/shipping.md#customs"
    assert customs.metadata["heading"] == "Shipping › International shipping › Customs"
    assert customs.metadata["source"] == "docs/shipping.md"
    assert len(customs.metadata["content_hash"]) == 16
    faq = split_document(load(CONTENT / "faq.csv"), "faq.csv")[1]
    assert faq.metadata["faq_id"] == "pay-methods"
    assert faq.metadata["location"] == "faq.csv#pay-methods"


def test_long_sections_are_split_with_overlap() -> None:
    sentences = [f"Sentence {i} talks about topic {i % 7} in some detail." for i in range(120)]
    doc = parse_markdown("# Long\n\n## Part\n\n" + " ".join(sentences), "x")
    chunks = split_document(doc, "long.md")
    assert len(chunks) > 3
    bodies = [c.text.split("\n\n", 1)[1] for c in chunks]
    assert all(len(b) <= 1000 for b in bodies)
    assert all(c.text.startswith("Long › Part\n\n") for c in chunks)
    # consecutive pieces overlap
    assert any(bodies[0][-60:].split()[-1] in bodies[1][:200] for _ in [0])
