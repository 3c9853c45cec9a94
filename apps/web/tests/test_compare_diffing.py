"""The compare page's word diff: which words each side marks."""

from apps.web import diffing
from apps.web.diffing import word_diff


def test_one_changed_word_is_marked_on_each_side_and_the_rest_reads_as_written():
    diff = word_diff("The cat sat on the mat.", "The dog sat on the mat.")
    assert diff.left == [("same", "The "), ("del", "cat"), ("same", " sat on the mat.")]
    assert diff.right == [("same", "The "), ("ins", "dog"), ("same", " sat on the mat.")]
    assert not diff.same


def test_a_rewritten_phrase_is_one_mark_not_a_mark_per_word():
    diff = word_diff("Reply politely and briefly.", "Reply with warmth, not briefly.")
    assert ("del", "politely and") in diff.left and ("ins", "with warmth, not") in diff.right


def test_unchanged_lines_are_kept_whole_and_equal_texts_are_the_same():
    diff = word_diff("first line\nsecond line\n", "first line\nsecond word\n")
    assert diff.left[0] == ("same", "first line\nsecond ") and ("del", "line") in diff.left
    assert word_diff("same", "same").same and word_diff(None, "").same


def test_a_huge_changed_block_is_shown_replaced_without_matching_words(monkeypatch):
    monkeypatch.setattr(diffing, "MAX_BLOCK_TOKENS", 4)
    diff = word_diff("a b c", "a b d")
    assert diff.left == [("del", "a b c")] and diff.right == [("ins", "a b d")]
