"""Importing sample files: every format gives the same items; errors name the row or line."""

import json

import pytest

from apps.web.sample_files import SampleFileInvalid, sample_file_items

ITEMS = [
    {"id": "a", "input": "Where is my parcel?", "reference": "tracking", "vars": {"tone": "calm"}},
    {"id": "b", "input": "Cancel my order", "expected": "refund", "vars": {"tone": "firm"}},
]
FILES = {
    "samples.json": json.dumps(ITEMS),
    "wrapped.json": json.dumps({"items": ITEMS}),
    "samples.jsonl": "\n".join(json.dumps(item) for item in ITEMS) + "\n\n",
    "samples.csv": "id,input,reference,expected,tone\r\na,Where is my parcel?,tracking,,calm\r\n"
                   "\r\nb,Cancel my order,,refund,firm\r\n",
    "samples.yaml": "- id: a\n  input: Where is my parcel?\n  reference: tracking\n  tone: calm\n"
                    "- id: b\n  input: Cancel my order\n  expected: refund\n  vars: {tone: firm}\n",
}


def errors_of(name: str, text: str | bytes) -> list[str]:
    with pytest.raises(SampleFileInvalid) as caught:
        sample_file_items(name=name, content=text if isinstance(text, bytes) else text.encode())
    return caught.value.messages


@pytest.mark.parametrize("name", FILES)
def test_every_format_gives_the_same_items(name):
    assert sample_file_items(name=name, content=FILES[name].encode()) == ITEMS


def test_plain_strings_are_inputs_and_object_inputs_stay_objects():
    text = json.dumps(["Hello", {"input": {"question": "Why?", "topic": "sky"}, "id": 7}])
    assert sample_file_items(name="s.json", content=text.encode()) == [
        {"input": "Hello"}, {"input": {"question": "Why?", "topic": "sky"}, "id": 7}]


def test_a_csv_with_a_bom_and_quoted_line_breaks_reads_like_any_other():
    text = '\ufeffinput,reference\n"line one\nline two",x\n'
    assert sample_file_items(name="S.CSV", content=text.encode()) == [{"input": "line one\nline two",
                                                                        "reference": "x"}]


def test_a_bad_csv_row_is_named_by_its_row_number():
    text = "input,reference\nfirst,ok\n,missing input\nthird,ok,extra cell\n"
    assert errors_of("s.csv", text) == ["Row 3 (line 4): 3 cells but the header has 2."]
    assert errors_of("s.csv", "input,reference\nfirst,ok\n , empty\n") == ["Row 2: 'input' is empty."]


def test_a_csv_without_an_input_column_says_what_the_header_needs():
    assert errors_of("s.csv", "question,reference\nhi,there\n") == [
        "The first row must be a header with an 'input' column."]


def test_a_bad_jsonl_line_is_named_by_its_line_number():
    text = '{"input": "one"}\n\n{"input": "two",}\n{"input": ""}\n'
    messages = errors_of("s.jsonl", text)
    assert messages[0].startswith("Line 3: not valid JSON")
    assert errors_of("s.jsonl", '{"input": "one"}\n{"input": "  "}\n') == ["Row 2: 'input' is empty."]


def test_bad_json_names_the_line_and_column():
    assert errors_of("s.json", '[\n  {"input": "a"}\n  {"input": "b"}\n]') == [
        "Line 3, column 3: not valid JSON (Expecting ',' delimiter)."]
    assert errors_of("s.json", '{"name": "x"}') == [
        "The file must hold a list of items (or an object with an 'items' list)."]


def test_bad_yaml_names_the_line_and_aliases_are_refused():
    assert errors_of("s.yaml", "- input: a\n- input: [b\n")[0].startswith("Line 3, column 1: not valid YAML")
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nitems: [*b, *b]\n"
    assert "aliases are not allowed" in errors_of("s.yml", bomb)[0]


def test_yaml_cannot_build_python_objects():
    assert "not valid YAML" in errors_of("s.yaml", "- !!python/object/apply:os.system ['true']\n")[0]


def test_an_oversize_file_is_refused_with_its_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    assert errors_of("s.json", json.dumps(["x" * 2000])) == ["The file is larger than the 1,000 byte limit."]


def test_too_many_items_are_refused(settings):
    settings.MAX_SAMPLE_ITEMS = 2
    assert errors_of("s.jsonl", "\n".join(['"a"', '"b"', '"c"'])) == [
        "The file has 3 items; at most 2 are allowed."]


def test_duplicate_ids_name_both_rows():
    assert errors_of("s.json", json.dumps([{"id": "x", "input": "a"}, {"id": "x", "input": "b"}])) == [
        "Row 2: id 'x' is already used by row 1."]


def test_an_unknown_extension_or_non_text_file_is_refused():
    assert errors_of("s.xlsx", "input\nx\n") == ["Choose a .json, .jsonl, .csv or .yaml file."]
    assert errors_of("s.csv", b"input\n\xff\xfe\n") == ["The file is not UTF-8 text (byte 7)."]
    assert errors_of("s.json", "   ") == ["The file is empty."]


def test_a_nul_character_is_refused_with_its_row():
    assert errors_of("s.json", json.dumps(["fine", "bad\x00"])) == ["Row 2: contains a NUL character."]


def test_many_bad_rows_are_summarised():
    text = "input\n" + "\n".join(" " for _ in range(3)) + "\n"
    lines = "\n".join(json.dumps({"input": ""}) for _ in range(25))
    assert len(errors_of("s.jsonl", lines)) == 21 and errors_of("s.jsonl", lines)[-1] == "…and 5 more."
    assert sample_file_items(name="s.csv", content=(text + "x\n").encode()) == [{"input": "x"}]
