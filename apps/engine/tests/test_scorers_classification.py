"""The classification scorer per item, and the per-run label report (precision, recall, F1, confusion)."""

from __future__ import annotations

import pytest

from apps.engine.scorers import validate_scorer_options
from apps.engine.scorers.base import OptionsInvalid
from apps.engine.scorers.classification import OTHER, label_report
from apps.engine.tests.labelled_helpers import score

LABELS = ["Positive", "Negative", "Neutral"]


@pytest.mark.asyncio
async def test_an_output_is_correct_when_it_normalises_to_the_expected_label():
    right = await score("classification", "  positive. ", {"expected": "Positive"}, labels=LABELS)
    assert right.value == 1.0 and right.metadata == {"expected": "Positive", "predicted": "Positive",
                                                     "correct": True, "reasoning": "predicted 'Positive', as expected"}
    wrong = await score("classification", "NEGATIVE!", {"expected": "positive"}, labels=LABELS)
    assert wrong.value == 0.0 and wrong.metadata["predicted"] == "Negative" and wrong.metadata["expected"] == "Positive"
    assert (await score("classification", "Label: neutral", {"expected": "Neutral"}, labels=LABELS,
                        strip_prefix="Label:")).value == 1.0


@pytest.mark.asyncio
async def test_an_output_outside_the_labels_is_wrong_with_no_prediction_and_an_empty_output_too():
    for output in ("mixed feelings", ""):
        result = await score("classification", output, {"expected": "Neutral"}, labels=LABELS)
        assert result.value == 0.0 and result.metadata["predicted"] is None
        assert result.metadata["reasoning"] == "expected 'Neutral'; the output is not one of the labels"


@pytest.mark.asyncio
async def test_an_expected_label_not_among_the_labels_is_an_error_naming_the_allowed_ones():
    result = await score("classification", "Positive", {"expected": "Sarcastic"}, labels=LABELS)
    assert result.value is None
    assert result.error == "the expected label 'Sarcastic' is not one of the labels: Positive, Negative, Neutral"
    assert (await score("classification", "x", {"id": "i3"}, labels=LABELS)).error == \
        "item 'i3' has no expected value (field `expected`)"


@pytest.mark.asyncio
async def test_contains_finds_exactly_one_label_in_a_sentence():
    said = "I would call this review negative overall."
    assert (await score("classification", said, {"expected": "Negative"}, labels=LABELS, match="contains")).value == 1.0
    torn = await score("classification", "Positive or negative?", {"expected": "Negative"}, labels=LABELS,
                       match="contains")
    assert torn.value == 0.0 and "names several labels: Positive, Negative" in torn.metadata["reasoning"]


@pytest.mark.asyncio
async def test_without_labels_the_normalised_texts_are_compared_and_unicode_labels_work():
    assert (await score("classification", "Spam.", {"expected": "spam"})).metadata["predicted"] == "spam"
    french = await score("classification", "Très bien", {"expected": "très bien"}, labels=["Très bien", "Mal"])
    assert french.value == 1.0


def test_labels_are_checked_when_saved():
    cases = [({"labels": []}, "labels"), ({"labels": ["a", ""]}, "labels.1"), ({"labels": ["Yes", "yes!"]}, "labels.1"),
             ({"match": "contains"}, "labels"), ({"labels": ["a"], "match": "fuzzy"}, "match")]
    for options, field in cases:
        with pytest.raises(OptionsInvalid) as caught:
            validate_scorer_options("classification", options)
        assert caught.value.field == field, options


def test_the_label_report_gives_accuracy_per_label_precision_recall_f1_and_the_confusion_matrix():
    pairs = [("cat", "cat")] * 3 + [("cat", "dog")] + [("dog", "dog")] * 2 + [("dog", None), ("bird", "cat")]
    report = label_report(pairs, ["cat", "dog", "bird"])
    assert (report.n, report.correct, report.accuracy) == (8, 5, 5 / 8)
    cat, dog, bird = report.labels
    assert (cat.precision, cat.recall, cat.support, cat.predicted) == (3 / 4, 3 / 4, 4, 4)
    assert cat.f1 == pytest.approx(0.75)
    assert (dog.precision, dog.recall) == (2 / 3, 2 / 3) and dog.f1 == pytest.approx(2 / 3)
    assert (bird.precision, bird.recall, bird.f1) == (None, 0.0, 0.0)
    assert report.macro_f1 == pytest.approx((0.75 + 2 / 3 + 0) / 3)
    assert report.columns == ["cat", "dog", "bird", OTHER]
    assert report.matrix == [("cat", [3, 1, 0, 0]), ("dog", [0, 2, 0, 1]), ("bird", [1, 0, 0, 0])]


def test_a_label_nobody_expects_has_no_recall_and_an_empty_run_has_no_accuracy():
    report = label_report([("a", "a")], ["a", "b"])
    assert report.labels[1].recall is None and report.labels[1].f1 is None and report.macro_f1 == 1.0
    assert report.columns == ["a", "b"]
    empty = label_report([], None)
    assert (empty.n, empty.accuracy, empty.macro_f1, empty.matrix) == (0, None, None, [])
