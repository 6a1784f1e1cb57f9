"""A second company, end to end: another content folder and settings, and nothing of the demo.

The test trains a model for tests/fixtures/second_company (Northwind Cycles, a bicycle shop
pricing in GBP) the way `make train` does (the NLU data generated from its catalog), starts
the real Rasa server, action server and gateway with it and holds a conversation through
/api/chat. Every reply must speak for Northwind Cycles and no word of the demo company
(Kestrel Coffee Works: its name, products and categories) may appear in any of them.

Set CONCIERGE_SECOND_COMPANY_MODEL to a model trained earlier to skip the training step.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.config import PROJECT_ROOT
from knowledge.catalog import Catalog
from knowledge.training_data import write_training_data
from tests.support.chat import ChatSession
from tests.support.stack import LiveStack, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CONTENT = PROJECT_ROOT / "tests" / "fixtures" / "second_company"
DEMO_CATALOG = PROJECT_ROOT / "knowledge" / "demo" / "catalog.json"
COMPANY_ENV = {
    "CONCIERGE_CONTENT_DIR": str(CONTENT),
    "CONCIERGE_COMPANY_NAME": "Northwind Cycles",
    "CONCIERGE_SUPPORT_EMAIL": "help@northwindcycles.co.uk",
    "CONCIERGE_SALES_EMAIL": "sales@northwindcycles.co.uk",
}
RASA_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "RASA_TELEMETRY_ENABLED": "false",
}
# Words of the demo catalog's names that any shop may say ("home", "office", "warranty"...).
GENERIC_WORDS = frozenset(
    {
        "home", "office", "hand", "over", "single", "plan", "plans", "warranty", "service",
        "services", "installation", "training", "monthly", "subscription", "pack", "water",
        "cleaning", "extended", "scale", "press", "group", "flat", "auto", "mini", "cold", "filter",
        "house", "origin", "tower", "machine", "machines", "accessories", "accessory", "kit",
        "dual",
    }
)  # fmt: skip


def demo_words() -> set[str]:
    """Return the demo company's own words: its name, domain, product and category names."""
    demo = Catalog.load(DEMO_CATALOG)
    texts = [demo.company, "kestrelcoffee"]
    for product in demo:
        texts.extend(product.names)
    for slug, label in demo.category_labels().items():
        texts.extend([slug, label, *demo.category(slug).aliases])
    words = {
        word
        for text in texts
        for word in re.findall(r"[a-z][a-z0-9]+", text.lower())
        if len(word) >= 4 and word not in GENERIC_WORDS
    }
    return words | {"coffee", "espresso", "grinder", "kestrel", "barista", "beans"}


def _train(project: Path) -> Path:
    """Train a model for the second company in ``project`` as `make train` would."""
    for name in ("config.yml", "domain.yml"):
        shutil.copy(PROJECT_ROOT / name, project / name)
    shutil.copytree(
        PROJECT_ROOT / "data", project / "data", ignore=shutil.ignore_patterns("*.generated.yml")
    )
    write_training_data(
        CONTENT / "catalog.json", project / "data" / "nlu" / "catalog.generated.yml"
    )
    rasa = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
    done = subprocess.run(
        [
            str(rasa), "train", "--config", str(project / "config.yml"),
            "--domain", str(project / "domain.yml"), "--data", str(project / "data"),
            "--out", str(project / "models"), "--fixed-model-name", "second", "--quiet",
        ],
        cwd=PROJECT_ROOT,  # config.yml names the sentence model relative to the project root
        env={**os.environ, **RASA_ENV},
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )  # fmt: skip
    model = project / "models" / "second.tar.gz"
    if done.returncode != 0 or not model.exists():
        pytest.fail(f"training the second company's model failed:\n{done.stderr[-3000:]}")
    return model


@pytest.fixture(scope="module")
def second_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """Run the assistant for Northwind Cycles on free ports with a fresh data directory."""
    with pytest.MonkeyPatch.context() as env:
        for key, value in COMPANY_ENV.items():
            env.setenv(key, value)
        env.delenv("CONCIERGE_CATALOG_PATH", raising=False)
        project = tmp_path_factory.mktemp("second-company-project")
        given = os.environ.get("CONCIERGE_SECOND_COMPANY_MODEL")
        model = Path(given) if given and Path(given).exists() else _train(project)
        data_dir = tmp_path_factory.mktemp("second-company-data")
        with running_stack(model, data_dir, content_dir=CONTENT) as stack:
            assert stack.settings.company.name == "Northwind Cycles"
            yield stack


@pytest.fixture
def chat(second_stack: LiveStack) -> Iterator[ChatSession]:
    """One widget-like conversation with the second company's gateway."""
    with httpx.Client(base_url=second_stack.gateway_url) as client:
        yield ChatSession(client, timeout=60)


def say(chat: ChatSession, text: str) -> list[dict[str, Any]]:
    messages = chat.say(text)
    assert messages, f"no reply to {text!r}"
    return messages


def visible(messages: list[dict[str, Any]]) -> str:
    """Everything a customer reads: texts, button titles and source titles."""
    parts: list[str] = []
    for message in messages:
        parts.append(message.get("text") or "")
        parts.extend(b.get("title", "") for b in message.get("buttons") or [])
        parts.extend(s.get("title", "") for s in message.get("sources") or [])
    return "\n".join(parts)


def test_demo_word_list_is_meaningful() -> None:
    words = demo_words()
    assert {"kestrel", "coffee", "espresso", "grinder", "feather", "talon"} <= words
    assert not words & {"bike", "bikes", "helmet", "northwind", "delivery"}


def test_a_bicycle_shop_speaks_for_itself_only(chat: ChatSession) -> None:
    catalog = Catalog.load(CONTENT / "catalog.json")
    replies: dict[str, list[dict[str, Any]]] = {}

    greeting = replies["greeting"] = say(chat, "Hi there!")
    assert "Northwind Cycles" in greeting[0]["text"], greeting
    assert "electric bikes" in greeting[0]["text"], "the offer comes from the catalog"
    assert greeting[0]["buttons"]

    recommendation = replies["recommendation"] = say(
        chat, "Can you recommend an electric bike under £2,000?"
    )
    cards = [m for m in recommendation if (m.get("custom") or {}).get("kind") == "product"]
    assert cards, recommendation
    first = catalog.get(cards[0]["custom"]["product_id"])
    assert first is not None and first.category == "e-bikes", recommendation
    assert first.name in cards[0]["text"] and "£" in cards[0]["text"], cards[0]
    assert all(s["location"].startswith("catalog.json#") for s in cards[0]["sources"])

    answer = replies["help page"] = say(chat, "How long does delivery take?")
    cited = [m for m in answer if m["sources"]]
    assert cited, f"a question the help pages answer is answered with sources: {answer}"
    assert any("delivery" in s["location"] for s in cited[0]["sources"]), cited[0]
    assert "5 working days" in cited[0]["text"], cited[0]["text"]

    unknown = replies["unknown"] = say(chat, "What's the weather in Vienna tomorrow?")
    payloads = {b["payload"] for m in unknown for b in m["buttons"]}
    assert "/ask_human" in payloads, unknown
    assert not any(m["sources"] for m in unknown), "a declined answer cites nothing"
    text = visible(unknown)
    assert "Northwind Cycles" in text or "couldn't find that in our documents" in text, unknown

    banned = demo_words()
    for turn, messages in replies.items():
        said = set(re.findall(r"[a-z][a-z0-9]+", visible(messages).lower()))
        leaked = said & banned
        assert not leaked, f"{turn}: the demo company's words {sorted(leaked)} in {messages}"
        assert "{" not in visible(messages), f"{turn}: an unfilled variable in {messages}"


def test_the_second_company_s_training_data_is_its_own(tmp_path: Path) -> None:
    out = write_training_data(CONTENT / "catalog.json", tmp_path / "catalog.generated.yml")
    text = out.read_text(encoding="utf-8").lower()
    assert "northwind volt city" in text and "£" in text
    assert not set(re.findall(r"[a-z][a-z0-9]+", text)) & demo_words()
    assert json.loads((CONTENT / "catalog.json").read_text())["currency"] == "GBP"
