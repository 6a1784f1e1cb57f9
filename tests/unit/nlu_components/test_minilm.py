"""The numpy MiniLM forward pass gives the vectors sentence-transformers gives."""

from __future__ import annotations

import numpy as np
import pytest

from nlu_components.minilm import MiniLMEncoder, token_features

TEXTS = [
    "hello",
    "what is your return policy?",
    "we're a 40-person office and need a coffee setup, budget around 5000 euros",
    "Do you ship to Norway? 🇳🇴",
    "warrenty",
]


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    return MiniLMEncoder()


@pytest.mark.slow
def test_sentence_vectors_match_sentence_transformers(encoder: MiniLMEncoder) -> None:
    from knowledge.embeddings import load_model

    reference = load_model().encode(TEXTS, normalize_embeddings=True)
    ours = encoder.sentence_vectors(TEXTS)
    assert ours.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(ours, reference, atol=2e-5)


def test_batches_of_mixed_lengths_give_the_same_vectors_as_one_by_one(
    encoder: MiniLMEncoder,
) -> None:
    together = encoder.sentence_vectors(TEXTS)
    alone = np.stack([encoder.sentence_vectors([t])[0] for t in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_token_vectors_skip_special_tokens_and_keep_character_offsets(
    encoder: MiniLMEncoder,
) -> None:
    [encoded] = encoder.encode(["Do you ship to Norway?"])
    assert len(encoded.offsets) == encoded.token_vectors.shape[0]
    words = ["Do you ship to Norway?"[s:e].lower() for s, e in encoded.offsets]
    assert words[:4] == ["do", "you", "ship", "to"]
    assert encoder.sentence_vectors([]).shape == (0, 384)


def test_long_texts_are_truncated_not_refused(encoder: MiniLMEncoder) -> None:
    [encoded] = encoder.encode(["coffee " * 2000])
    assert encoded.token_vectors.shape[0] == encoder.max_length - 2


def test_token_features_average_the_subwords_of_each_whitespace_token(
    encoder: MiniLMEncoder,
) -> None:
    text = "descaling my espresso"
    [encoded] = encoder.encode([text])
    spans = [(0, 9), (10, 12), (13, 21), (21, 21)]
    features = token_features(encoded, spans)
    assert features.shape == (4, 384)
    inside = [j for j, (s, e) in enumerate(encoded.offsets) if s < 9 and e > 0]
    assert len(inside) > 1  # "descaling" is several subwords
    np.testing.assert_allclose(features[0], encoded.token_vectors[inside].mean(axis=0))
    assert not features[3].any()  # an empty span gets zeros
