"""The format scorer: JSON, JSON Schema, markdown structure and regex (with its time guards)."""

from __future__ import annotations

import time

import pytest

from apps.engine.scorers import regex_safety
from apps.engine.scorers.base import OptionsInvalid, ScoringContext
from apps.engine.scorers.format_check import MAX_SCAN_CHARS, FormatScorer

SCHEMA = {
    "type": "object",
    "required": ["name", "tags"],
    "properties": {
        "name": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "age": {"type": "integer", "minimum": 0},
    },
}
MARKDOWN = """# Report

Intro.

## Summary
- one
- two

## Steps
1. first
2. second

| a | b |
|---|---|
| 1 | 2 |

```python
# not a heading
- not a list
```
"""


async def score(output: str, **options):
    return await FormatScorer(options).evaluate(ScoringContext(item={}, output=output))


def invalid(**options) -> OptionsInvalid:
    with pytest.raises(OptionsInvalid) as caught:
        FormatScorer.validate_options(options)
    return caught.value


@pytest.mark.asyncio
async def test_valid_json_scores_one_and_invalid_json_zero_with_the_parse_error():
    assert (await score('  {"a": [1, 2, "ü"]}\n', kind="json")).value == 1.0
    broken = await score('{"a": 1,}', kind="json")
    assert broken.value == 0.0 and broken.error == ""
    assert broken.metadata["valid_json"] is False and "invalid JSON" in broken.metadata["error"]
    assert (await score("", kind="json")).value == 0.0


@pytest.mark.asyncio
async def test_fenced_json_counts_only_when_allowed():
    reply = 'Here you go:\n```json\n{"name": "x", "tags": []}\n```\nAnything else?'
    assert (await score(reply, kind="json")).value == 0.0
    fenced = await score(reply, kind="json", allow_fenced=True)
    assert fenced.value == 1.0 and fenced.metadata["source"] == "fenced block"
    assert (await score("```\n[1, 2]\n```", kind="json", allow_fenced=True)).value == 1.0
    assert (await score("```python\n[1, 2]\n```", kind="json", allow_fenced=True)).value == 0.0


@pytest.mark.asyncio
async def test_deeply_nested_json_is_a_zero_not_a_crash():
    result = await score("[" * 100_000 + "]" * 100_000, kind="json")
    assert result.value == 0.0 and result.error == ""


@pytest.mark.asyncio
async def test_a_schema_match_scores_one():
    result = await score('{"name": "Ada", "tags": ["x"], "age": 36}', kind="json_schema", schema=SCHEMA)
    assert result.value == 1.0 and result.metadata["valid"] is True


@pytest.mark.asyncio
async def test_schema_failures_list_each_path_and_message():
    result = await score('{"tags": ["x", 5], "age": -1}', kind="json_schema", schema=SCHEMA)
    assert result.value == 0.0
    assert result.metadata["error_count"] == 3
    paths = {error["path"]: error["message"] for error in result.metadata["errors"]}
    assert paths["$"] == "'name' is a required property"
    assert "is not of type 'string'" in paths["$.tags[1]"]
    assert "less than the minimum of 0" in paths["$.age"]


@pytest.mark.asyncio
async def test_schema_kind_scores_invalid_json_zero():
    result = await score("name: Ada", kind="json_schema", schema=SCHEMA)
    assert result.value == 0.0 and result.metadata["valid_json"] is False


@pytest.mark.asyncio
async def test_a_remote_ref_is_never_fetched_and_is_a_scorer_error():
    result = await score("{}", kind="json_schema", schema={"$ref": "http://127.0.0.1:9/schema.json"})
    assert result.value is None and "cannot be resolved" in result.error


def test_an_invalid_schema_is_refused_when_saved_naming_schema():
    error = invalid(kind="json_schema", schema={"type": "objekt"})
    assert error.field == "schema" and "Draft 2020-12" in error.message and "$.type" in error.message
    assert invalid(kind="json_schema", schema="{}").field == "schema"
    assert invalid(kind="json_schema").field == "schema"
    assert invalid(kind="json_schema", schema={"type": "string", "pattern": "("}).field == "schema"
    nested = {"properties": {"id": {"type": "string", "pattern": "^(a+)+$"}}}
    assert "exponential" in invalid(kind="json_schema", schema=nested).message


def test_options_of_another_kind_and_unknown_kinds_are_refused():
    assert invalid(kind="json", schema=SCHEMA).field == "schema"
    assert invalid(kind="xml").field == "kind"
    assert invalid().field == "kind"


@pytest.mark.asyncio
async def test_markdown_counts_headings_lists_code_blocks_and_tables():
    result = await score(MARKDOWN, kind="markdown", headings=3, lists=2, code_blocks=1, tables=1)
    assert result.value == 1.0
    counts = result.metadata["counts"]
    assert (counts["headings"], counts["lists"], counts["code_blocks"], counts["tables"]) == (3, 2, 1, 1)
    assert counts["heading_texts"] == ["Report", "Summary", "Steps"]


@pytest.mark.asyncio
async def test_markdown_scores_the_fraction_of_requirements_met_and_says_which_failed():
    result = await score(MARKDOWN, kind="markdown", headings=["summary", "Conclusion"], tables=2, lists=1)
    assert result.value == 0.5
    assert result.metadata["failed"] == ["heading 'Conclusion' is missing", "tables: found 1, need at least 2"]


@pytest.mark.asyncio
async def test_setext_headings_and_unclosed_fences_follow_commonmark():
    text = "Title\n=====\n\nPara\n\n---\n\nSub\n---\n```\n# inside\n"
    counts = (await score(text, kind="markdown", headings=1)).metadata["counts"]
    assert counts["heading_texts"] == ["Title", "Sub"] and counts["code_blocks"] == 1


def test_markdown_needs_at_least_one_requirement():
    assert invalid(kind="markdown").field == "headings"
    assert invalid(kind="markdown", headings=["ok", ""]).field == "headings.1"
    assert invalid(kind="markdown", tables=-1).field == "tables"


@pytest.mark.asyncio
async def test_regex_search_and_fullmatch():
    found = await score("Order #A-1234 shipped", kind="regex", pattern=r"#([A-Z])-\d{4}")
    assert found.value == 1.0 and found.metadata["match"] == "#A-1234" and found.metadata["span"] == [6, 13]
    assert (await score("Order #A-1234 shipped", kind="regex", pattern=r"#[A-Z]-\d{4}", mode="fullmatch")).value == 0.0
    assert (await score("YES", kind="regex", pattern=r"(?i)yes|no", mode="fullmatch")).value == 1.0
    assert (await score("", kind="regex", pattern=r"\w")).value == 0.0


def test_bad_and_dangerous_patterns_are_refused_when_saved():
    assert "Not a valid regular expression" in invalid(kind="regex", pattern="(unclosed").message
    assert invalid(kind="regex", pattern="a" * 1001).field == "pattern"
    for pattern in (r"(a+)+$", r"^(\w+\s?)*$", r"(a*|b)+c", r"((a+)?)+x"):
        assert "exponential" in invalid(kind="regex", pattern=pattern).message
    assert FormatScorer.validate_options({"kind": "regex", "pattern": r"^(\w+,)*\w+$"})["mode"] == "search"


@pytest.mark.asyncio
async def test_only_the_first_100k_characters_are_searched():
    text = "x" * MAX_SCAN_CHARS + "NEEDLE"
    result = await score(text, kind="regex", pattern="NEEDLE")
    assert result.value == 0.0 and result.metadata["scanned_chars"] == MAX_SCAN_CHARS
    full = await score(text, kind="regex", pattern=r"x+NEEDLE", mode="fullmatch")
    assert full.value == 0.0 and "fullmatch not tried" in full.metadata["error"]


@pytest.mark.asyncio
async def test_long_outputs_and_complex_patterns_run_in_a_child_process():
    text = "ab " * 20_000 + "xyz"
    result = await score(text, kind="regex", pattern=r"(\w+\s)*xyz")
    assert result.value == 1.0 and result.metadata["span"] == [0, len(text)]
    assert result.metadata["match"] == text[:200]


@pytest.mark.asyncio
async def test_a_backtracking_blowup_the_heuristic_misses_is_stopped_by_the_time_limit():
    assert regex_safety.unsafe_repeat(r"^(a|aa)+$") is None
    started = time.monotonic()
    with pytest.raises(regex_safety.RegexTooSlow, match="longer than 0.3s"):
        await regex_safety.find(r"^(a|aa)+$", "a" * 60 + "b", "search", timeout_s=0.3)
    assert time.monotonic() - started < 3


@pytest.mark.asyncio
async def test_the_scorer_reports_a_slow_regex_as_an_error(monkeypatch):
    monkeypatch.setattr(regex_safety, "TIMEOUT_S", 0.3)
    result = await score("a" * 60 + "b", kind="regex", pattern=r"^(a|aa)+$")
    assert result.value is None and "simplify it" in result.error
    assert result.metadata["pattern"] == r"^(a|aa)+$"


def test_simple_patterns_are_recognized_for_the_in_process_fast_path():
    assert regex_safety.is_simple(r"^SCORE: (\d+)$")
    assert regex_safety.is_simple(r"(?i)hello\s+world|goodbye")
    assert not regex_safety.is_simple(r".*.*x")
    assert not regex_safety.is_simple(r"(foo|bar)+")
    assert not regex_safety.is_simple(r"(a)\1")
