"""A Rasa dense featurizer: all-MiniLM-L6-v2 computed once per message in numpy.

It gives DIET the same information Rasa's ``LanguageModelFeaturizer`` gives (one vector per
whitespace token, averaged over its subwords, and one sentence vector), from a single forward
pass over the whole text. The sentence vector is the model's own sentence embedding (mean
pooling, normalised: what sentence-transformers returns), not the ``[CLS]`` state. Use it in
``config.yml`` as ``nlu_components.featurizer.MiniLMFeaturizer``.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import ACTION_TEXT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.minilm import MiniLMEncoder, token_features

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):  # type: ignore[misc]
    """Dense token and sentence features from all-MiniLM-L6-v2 (numpy forward pass)."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Require a tokenizer first: features are aligned to its tokens."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``model_path``: the model folder (default: the installed package's)."""
        return {**DenseFeaturizer.get_default_config(), "model_path": None, "batch_size": 64}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Check the batch size."""
        if int(config.get("batch_size", 64)) < 1:
            raise ValueError("MiniLMFeaturizer: batch_size must be at least 1")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MiniLMFeaturizer:
        """Load the weights (a fraction of a second)."""
        return cls(config, execution_context.node_name)

    def __init__(self, config: dict[str, Any], name: str) -> None:
        """Load the encoder named by ``config['model_path']``."""
        super().__init__(name, config)
        self.encoder = MiniLMEncoder(config.get("model_path"))
        self.batch_size = int(config.get("batch_size", 64))

    def _featurize(self, messages: list[Message], attribute: str) -> None:
        texts = [str(m.get(attribute)) for m in messages]
        encoded = self.encoder.encode(texts, batch_size=self.batch_size)
        for message, result in zip(messages, encoded, strict=True):
            tokens = message.get(TOKENS_NAMES[attribute]) or []
            spans = [(int(t.start), int(t.end)) for t in tokens]
            sequence = token_features(result, spans) if spans else None
            self.add_features_to_message(
                sequence=sequence,
                sentence=result.sentence[None, :],
                attribute=attribute,
                message=message,
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize every training example's text, response and action text."""
        for attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
            examples = [m for m in training_data.training_examples if m.get(attribute)]
            if examples:
                self._featurize(examples, attribute)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurize incoming messages (text and action text)."""
        for attribute in (TEXT, ACTION_TEXT):
            with_text = [m for m in messages if m.get(attribute)]
            if with_text:
                self._featurize(with_text, attribute)
        return messages
