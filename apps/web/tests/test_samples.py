"""The builder's sample table: items → table → posted fields → the same items, and its htmx actions."""

import json
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.template.loader import render_to_string
from django.test import RequestFactory

from apps.web.samples import samples_action, samples_from_post, samples_table
from apps.web.tests.builders import htmx

URL = "/experiments/samples/"
ITEMS = [
    {"id": "1", "input": "Where is my parcel?", "reference": "tracking", "vars": {"tone": "calm"}},
    {"id": "2", "input": {"question": "Why?", "topic": "sky"}, "expected": ["blue", "light"],
     "vars": {"tone": "firm", "level": 3}},
    {"id": "3", "input": "line one\nline two"},
]


class FormFields(HTMLParser):
    """The fields a browser would submit from the rendered table (checked boxes only)."""

    def __init__(self):
        super().__init__()
        self.pairs, self._textarea = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") and attrs.get("type") != "file":
            if attrs.get("type") != "checkbox" or "checked" in attrs:
                self.pairs.append((attrs["name"], attrs.get("value", "")))
        elif tag == "textarea":
            self._textarea = [attrs["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea:
            name, value = self._textarea
            self.pairs.append((name, value.removeprefix("\n").replace("\n", "\r\n")))  # as a browser posts it
            self._textarea = None


def render(table) -> str:
    return render_to_string("web/experiments/samples.html#experiment-samples", {"samples": table})


def posted(html: str, **extra) -> dict[str, list[str]]:
    parser = FormFields()
    parser.feed(html)
    data: dict[str, list[str]] = {}
    for name, value in parser.pairs:
        data.setdefault(name, []).append(value)
    for name, value in extra.items():
        data[name.replace("_", "-") if name != "samples_action" else name] = [value]
    return data


def query(data: dict[str, list[str]]) -> QueryDict:
    result = QueryDict(mutable=True)
    for name, values in data.items():
        result.setlist(name, values)
    return result


def act(html: str, action: str, files=None, **extra):
    request = RequestFactory().post(URL, {**posted(html, **extra), "samples_action": action, **(files or {})})
    return samples_action(request)


# Items → table → post → items

def test_items_survive_a_round_trip_through_the_table():
    html = render(samples_table(ITEMS))
    assert samples_from_post(query(posted(html))) == ITEMS


def test_an_object_input_comes_marked_and_json_looking_text_stays_text():
    html = render(samples_table([{"input": '{"a": 1}'}, {"input": {"a": 1}}]))
    data = posted(html)
    assert data["samples-1-json"] == ["input"] and "samples-0-json" not in data
    assert samples_from_post(query(data)) == [{"input": '{"a": 1}'}, {"input": {"a": 1}}]
    data["samples-0-json"] = ["input"]  # the person ticks "JSON object"
    assert samples_from_post(query(data))[0] == {"input": {"a": 1}}


def test_blank_rows_and_blank_cells_are_left_out():
    data = posted(render(samples_table([{"input": "x"}, {"input": " "}, {"input": "y", "id": " "}])))
    assert samples_from_post(query(data)) == [{"input": "x"}, {"input": "y"}]


def test_a_save_post_is_not_a_table_action():
    request = RequestFactory().post(URL, posted(render(samples_table(ITEMS)), name="My experiment"))
    assert samples_action(request) is None


def test_a_marked_cell_that_is_not_an_object_is_refused_next_to_it():
    data = posted(render(samples_table([{"input": "fine"}, {"input": {"a": 1}}])))
    data["samples-1-input"] = ['{"a": 1']
    table = samples_action(RequestFactory().post(URL, data))
    assert table is not None and table.has_errors
    html = render(table)
    assert html.index('name="samples-1-input"') < html.index("Row 2: Not valid JSON") < html.index('"remove-row-1"')
    assert samples_from_post(query(data))[1] == {"input": '{"a": 1'}  # kept, as text, never lost


def test_service_errors_show_next_to_their_row_and_cell_numbered_from_one():
    errors = {"sample_data.1.id": ["Duplicate id '1'."], "sample_data.0": ["Something about the row."],
              "sample_data": ["At most 2 items are allowed."], "stages.0.model": ["Not ours."]}
    html = render(samples_table([{"id": "1", "input": "a"}, {"id": "1", "input": "b"}], errors=errors))
    assert html.index('name="samples-1-id"') < html.index("Row 2: Duplicate id") < html.index('name="samples-1-input"')
    assert html.index('id="sample-row-1"') < html.index("Something about the row.") < html.index('name="samples-0-id"')
    assert "At most 2 items are allowed." in html and "Not ours." not in html


# Table actions

def test_adding_and_removing_rows():
    html = render(samples_table(ITEMS[:2]))
    table = act(html, "add-row")
    assert table.total == 3 and 'name="samples-2-input"' in render(table)
    table = act(render(table), "remove-row-0")
    html = render(table)
    assert table.total == 2 and "Where is my parcel?" not in html and "sky" in html


def test_adding_a_column_adds_a_variable_and_removing_it_drops_its_values():
    html = render(samples_table([{"input": "a", "vars": {"tone": "calm"}}]))
    table = act(html, "add-column", samples_new_column="audience")
    html = render(table)
    assert table.columns == ["tone", "audience"] and 'name="samples-0-v1"' in html
    data = posted(html)
    data["samples-0-v1"] = ["kids"]
    assert samples_from_post(query(data)) == [{"input": "a", "vars": {"tone": "calm", "audience": "kids"}}]
    table = samples_action(RequestFactory().post(URL, {**data, "samples_action": "remove-column-0"}))
    assert samples_from_post(query(posted(render(table)))) == [{"input": "a", "vars": {"audience": "kids"}}]


@pytest.mark.parametrize(("name", "message"), [
    ("2fast", "letters, digits and underscores"), ("input", "'input' is a built-in name"),
    ("tone", "There is already a column 'tone'")])
def test_a_bad_column_name_is_explained(name, message):
    table = act(render(samples_table([{"input": "a", "vars": {"tone": "x"}}])), "add-column", samples_new_column=name)
    assert table.columns == ["tone"] and any(message in error for error in table.errors)
    assert "Remove<span" in render(table)


def test_a_long_table_shows_one_page_and_keeps_every_row():
    items = [{"id": str(n), "input": f"question {n}"} for n in range(1, 251)]
    html = render(samples_table(items))
    assert "rows 1–50 shown" in html and "question 50<" in html and "question 51<" not in html
    assert html.count("<textarea") == 150
    page = act(html, "page-200")
    assert "question 201<" in render(page) and "question 1<" not in render(page)
    data = posted(render(page))
    data["samples-0-input"] = ["edited"]
    got = samples_from_post(query(data))
    assert len(got) == 250 and got[200] == {"id": "201", "input": "edited"} and got[0] == items[0]


def test_errors_on_another_page_are_listed_and_the_table_opens_on_the_first_one():
    items = [{"input": f"q{n}"} for n in range(150)]
    table = samples_table(items, errors={"sample_data.120.input": ["Bad."], "sample_data.3.id": ["Worse."]})
    assert table.offset == 0 and "Row 121 input: Bad." in table.errors
    assert samples_table(items, errors={"sample_data.120.input": ["Bad."]}).offset == 100
    assert "Row 121 input: Bad." not in samples_table(items, errors={"sample_data.120.input": ["Bad."]}).errors


# Import with a preview

def upload(name: str, text: str) -> dict:
    return {"samples-file": SimpleUploadedFile(name, text.encode())}


def test_an_import_shows_a_preview_and_changes_nothing_until_accepted():
    html = render(samples_table([{"input": "old"}]))
    csv = "input,tone\n" + "".join(f"new {n},calm\n" for n in range(25))
    table = act(html, "import", files=upload("mail.csv", csv))
    html = render(table)
    assert table.total == 1 and "Preview of mail.csv: 25 items" in html and "The first 20 are shown." in html
    assert "<td>new 19</td>" in html and "<td>new 20</td>" not in html
    replaced = act(html, "replace")
    assert samples_from_post(query(posted(render(replaced))))[:2] == [
        {"input": "new 0", "vars": {"tone": "calm"}}, {"input": "new 1", "vars": {"tone": "calm"}}]
    appended = samples_from_post(query(posted(render(act(html, "append")))))
    assert len(appended) == 26 and appended[0] == {"input": "old"}
    discarded = act(html, "discard")
    assert discarded.preview is None and "Preview of" not in render(discarded) and discarded.total == 1


def test_an_import_error_names_the_row_and_keeps_the_table():
    table = act(render(samples_table(ITEMS)), "import", files=upload("bad.csv", "input,reference\nok,a\n ,b\n"))
    html = render(table)
    assert "Could not import bad.csv" in html and "Row 2: &#x27;input&#x27; is empty." in html
    assert table.total == 3 and "Replace the table" not in html


def test_an_oversize_upload_is_refused(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    table = act(render(samples_table([])), "import", files=upload("big.jsonl", '"x"\n' * 1000))
    assert table.preview.errors == ["The file is larger than the 2,000 byte limit."]


def test_import_without_a_file_asks_for_one():
    assert act(render(samples_table([])), "import").preview.errors == ["Choose a file to import."]


# The htmx view

def test_the_htmx_path_returns_only_the_partial(client, owner):
    client.force_login(owner)
    data = posted(render(samples_table(ITEMS)))
    response = htmx(client, URL, target="experiment-samples", method="post", data={**data, "samples_action": "add-row"})
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section id="experiment-samples"')
    assert "<html" not in html and 'name="samples-3-input"' in html


def test_the_view_imports_a_file_into_a_preview(client, owner):
    client.force_login(owner)
    response = htmx(client, URL, method="post", data={"samples_action": "import", "samples-rows": "0",
                                                       **upload("s.json", json.dumps(ITEMS))})
    assert response.status_code == 200 and "Preview of s.json: 3 items" in response.content.decode()


def test_the_view_answers_400_with_the_error_when_a_cell_is_refused(client, owner):
    client.force_login(owner)
    data = {"samples-rows": "1", "samples-0-input": "[1]", "samples-0-json": "input", "samples_action": "add-row"}
    response = htmx(client, URL, method="post", data=data)
    assert response.status_code == 400 and "Marked as a JSON object but is not one" in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client, admin_user):
    response = client.post(URL, {"samples_action": "add-row"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_guest_is_refused(client, guest_mode):
    response = htmx(client, URL, method="post", data={"samples_action": "add-row"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_table_is_only_posted_to(client, owner):
    client.force_login(owner)
    assert client.get(URL).status_code == 405


def test_without_javascript_the_builder_form_runs_the_table_action_and_saves_nothing(client, owner, project):
    from apps.experiments.models import Experiment

    client.force_login(owner)
    response = client.post(f"/projects/{project.pk}/experiments/new/", {
        "name": "Draft", "samples-rows": "0", "samples_action": "import",
        **upload("mail.csv", "input,reference\nhello,hi\n")})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html and "Preview of mail.csv: 1 item" in html
    assert not Experiment.objects.exists()
