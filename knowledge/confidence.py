"""Confidence that a chunk answers the question: 0..1, comparable across questions.

Fusion scores rank chunks within one question but mean nothing across questions (BM25 scores
grow with the corpus and the question's length; the BM25 part of fusion is normalised by the
question's best score). Confidence therefore uses signals that are absolute:

* ``cosine``: the dense cosine similarity between the question and the chunk (normalised
  all-MiniLM-L6-v2 vectors);
* ``coverage``: the share of the question's idf weight whose words occur in the chunk (BM25
  agreement);
* ``product_match``: the chunk is the catalog entry of a product the question names;
* ``novelty``: the share of the question's idf weight in words the whole index never uses
  ("what's the capital of Peru" is all novelty).

A logistic model (Platt scaling) turns them into a probability-like score:
``sigmoid(bias + w_cos*cosine + w_cov*coverage + w_product*product_match +
w_novelty*novelty)``. ``python -m knowledge.calibrate`` fits it on labelled answerable and
unanswerable questions about the demo content and measures where to put the answer
threshold; docs/knowledge-base.md records the numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ConfidenceModel:
    """Logistic calibration of (cosine, coverage) into a probability-like confidence."""

    bias: float
    w_cosine: float
    w_coverage: float
    w_product: float = 0.0
    w_novelty: float = 0.0

    def score(
        self,
        cosine: float,
        coverage: float,
        product_match: bool = False,
        novelty: float = 0.0,
    ) -> float:
        """Return the calibrated confidence in 0..1."""
        z = (
            self.bias
            + self.w_cosine * cosine
            + self.w_coverage * coverage
            + self.w_product * float(product_match)
            + self.w_novelty * novelty
        )
        if z < -40:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))


DEFAULT_MODEL = ConfidenceModel(
    bias=-4.83, w_cosine=9.697, w_coverage=1.7, w_product=0.707, w_novelty=-0.973
)
"""Fitted by ``python -m knowledge.calibrate`` on the demo content (see the docs)."""

DEFAULT_ANSWER_THRESHOLD = 0.44
"""Confidence below which the assistant declines; measured, see docs/knowledge-base.md."""
