"""Run in Rasa's environment: train, persist and reload LinearIntentClassifier; print JSON.

Used by tests/unit/nlu_components/test_linear_classifier.py, which runs it with
``.venv-rasa/bin/python`` (Rasa is not installed in the app's environment).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any


def main() -> int:
    """Train on a tiny data set and report predictions before and after reloading."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
        CountVectorsFeaturizer,
    )
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from nlu_components.featurizer import MiniLMFeaturizer
    from nlu_components.linear_classifier import LinearIntentClassifier

    examples = {
        "greet": ["hello", "hi there", "good morning", "hey", "hello, anyone here?"],
        "ask_price": ["how much is it", "what does it cost", "price please", "how expensive"],
        "ask_shipping": ["do you ship to Austria", "delivery to Norway?", "shipping costs"],
    }
    binary = {name: examples[name] for name in ("greet", "ask_price")}
    probes = ["hi!", "how much does the grinder cost?", "can you deliver to Spain?"]
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        context = ExecutionContext(GraphSchema({}), "test")
        for label, data in (("three", examples), ("two", binary)):
            (Path(tmp) / label).mkdir()
            storage = LocalModelStorage(Path(tmp) / label)
            tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
            words = CountVectorsFeaturizer.create(
                CountVectorsFeaturizer.get_default_config(),
                storage, Resource(f"{label}-words"), context,
            )  # fmt: skip
            dense = MiniLMFeaturizer.create(
                MiniLMFeaturizer.get_default_config(), storage, Resource("minilm"), context
            )
            training = TrainingData(
                [Message.build(text=t, intent=i) for i, texts in data.items() for t in texts]
            )
            tokenizer.process_training_data(training)
            words.train(training)
            words.process_training_data(training)
            dense.process_training_data(training)
            resource = Resource(f"{label}-linear")
            classifier = LinearIntentClassifier.create(
                LinearIntentClassifier.get_default_config(), storage, resource, context
            )
            classifier.train(training)

            def parse(
                model: LinearIntentClassifier, steps: tuple[Any, ...] = (tokenizer, words, dense)
            ) -> list[dict[str, Any]]:
                messages = [Message.build(text=t) for t in probes]
                for step in steps:
                    step.process(messages)
                model.process(messages)
                return [
                    {"intent": m.get("intent"), "ranking": m.get("intent_ranking")}
                    for m in messages
                ]

            reloaded = LinearIntentClassifier.load(
                LinearIntentClassifier.get_default_config(), storage, resource, context
            )
            untrained = LinearIntentClassifier.load(
                LinearIntentClassifier.get_default_config(), storage, Resource("none"), context
            )
            out[label] = {
                "trained": parse(classifier),
                "reloaded": parse(reloaded),
                "untrained": parse(untrained),
            }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
