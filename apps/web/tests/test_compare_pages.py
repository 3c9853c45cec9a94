"""The compare page: picker, settings and prompt diffs, per-item word diffs, score overlay, who may see it."""

import pytest

from apps.endpoints.models import Endpoint
from apps.exports.tests.builders import make_endpoint, make_experiment, make_run
from apps.web.tests.builders import htmx
from apps.web.views import compare as compare_view

pytestmark = pytest.mark.django_db

BASE = {"stages.0.model": "small-model", "stages.0.params.temperature": 0.5}


@pytest.fixture
def endpoint(owner):
    return make_endpoint(owner)


@pytest.fixture
def experiment(owner, endpoint):
    return make_experiment(owner, endpoint)


@pytest.fixture
def pair(experiment):
    a = make_run(experiment, position=0, score=0.6, point=BASE, outputs={"a": "The cat sat on the mat.", "b": "Rain."})
    b = make_run(experiment, position=1, score=0.9, point={**BASE, "stages.0.params.temperature": 0.1},
                 outputs={"a": "The dog sat on the mat.", "b": "Rain."})
    return a, b


def url(a, b, **extra):
    query = "&".join(f"{key}={value}" for key, value in {"a": a.pk, "b": b.pk, **extra}.items())
    return f"/compare/?{query}"


def page(client, *args, **extra) -> str:
    response = client.get(url(*args, **extra))
    assert response.status_code == 200, response.content
    return response.content.decode()


def section(html: str, dom_id: str) -> str:
    start = html.index(f'id="{dom_id}"')
    return html[start: html.index("</table>", start)] if "<table" in html[start - 10: start] else html[start:]


def test_the_settings_diff_lists_only_what_differs_and_counts_the_rest(client, owner, pair):
    client.force_login(owner)
    html = page(client, *pair)
    table = section(html, "compare-params")
    assert "stages.0.params.temperature" in table and "<td>0.5</td><td>0.1</td>" in table
    assert "stages.0.model" not in table and "stages.1.name" not in table
    assert "1 setting differs, 12 are the same" in html


def test_the_prompt_diff_marks_the_changed_words_per_stage(client, owner, experiment, pair):
    changed = make_run(experiment, position=2, score=0.5,
                       point={**BASE, "stages.0.system_prompt": "You extract short facts.\nX=1\nNever add $HOME."})
    client.force_login(owner)
    html = page(client, pair[0], changed)
    block = section(html, "prompt-stages0system_prompt")
    assert "Stage 1 · System prompt" in block
    assert "<ins><span class=\"visually-hidden\">[added: </span>short <" in block
    assert "<del><span class=\"visually-hidden\">[removed: </span> or &quot;quotes&quot;<" in block
    assert "Both runs send the same system prompts" in page(client, *pair)


def test_each_item_shows_both_outputs_side_by_side_with_the_changed_word(client, owner, pair):
    client.force_login(owner)
    html = page(client, *pair)
    item_a, item_b = section(html, "item-a-0"), section(html, "item-b-0")
    assert "[removed: </span>cat<" in item_a and "[added: </span>dog<" in item_a
    assert "on the mat." in item_a and "same output" not in item_a[: item_a.index("</h3>")]
    assert "same output" in item_b[: item_b.index("</h3>")]


def test_the_score_overlay_shows_the_same_numbers_as_the_rest_compare(client, api, owner, pair):
    body = api.get("/api/v1/runs/compare", {"a": str(pair[0].pk), "b": str(pair[1].pk)}).json()
    client.force_login(owner)
    html = page(client, *pair)
    for name, entry in body["scores"].items():
        block = section(html, f"overlay-{name}")[:1500]
        for side in ("a", "b"):
            low, high = entry[f"ci_{side}"]
            assert f"{entry[f'mean_{side}']:.3f} <span class=\"muted\">(95% CI {low:.3f}–{high:.3f})" in block
            assert f"n={entry[f'n_{side}']}" in block
        assert f"B − A: {entry['delta']:+.3f}" in block
    weighted = section(html, "overlay-weighted-score")[:1500]
    assert f"{body['weighted_score']['a']:.3f}" in weighted and f"+{body['weighted_score']['delta']:.3f}" in weighted


def test_the_per_item_score_table_marks_scores_that_changed(client, owner, pair):
    client.force_login(owner)
    table = section(page(client, *pair), "compare-item-scores")
    row = table[table.index('href="#item-a-0"'):]
    row = row[: row.index("</tr>")]
    assert '<td class="num">0.600</td><td class="num">0.900</td>' in row
    assert '<td class="num differs"><span aria-label="changed">≠</span> +0.300</td>' in row


def test_runs_ticked_on_the_leaderboard_arrive_as_two_run_values(client, owner, pair):
    client.force_login(owner)
    html = client.get(f"/compare/?run={pair[0].pk}&run={pair[1].pk}").content.decode()
    assert 'id="compare-params"' in html and "[added: </span>dog<" in html


def test_outputs_are_paged_by_item_and_htmx_gets_only_that_section(client, owner, pair, monkeypatch):
    monkeypatch.setattr(compare_view, "ITEMS_PER_PAGE", 1)
    client.force_login(owner)
    html = page(client, *pair)
    assert 'id="item-a-0"' in html and 'id="item-b-0"' not in html and "Page 1 of 2" in html
    assert f"?page=2&amp;a={pair[0].pk}&amp;b={pair[1].pk}" in html
    partial = htmx(client, url(*pair, page=2), target="compare-items").content.decode()
    assert partial.lstrip().startswith('<section id="compare-items"') and "<html" not in partial
    assert 'id="item-b-0"' in partial and 'id="item-a-0"' not in partial
    assert 'id="item-b-0"' in page(client, *pair, page=99)


def test_the_page_reads_both_runs_in_a_bounded_number_of_queries(client, owner, pair,
                                                                 django_assert_max_num_queries):
    client.force_login(owner)
    with django_assert_max_num_queries(12):
        page(client, *pair)


def test_runs_of_two_experiments_can_be_compared_and_the_page_says_so(client, owner, endpoint, pair):
    other = make_run(make_experiment(owner, endpoint, name="Other experiment"), score=0.3)
    client.force_login(owner)
    html = page(client, pair[0], other)
    assert "These runs belong to different experiments" in html and "Other experiment" in html
    assert "These runs belong to different experiments" not in page(client, *pair)


# The picker

def test_without_runs_the_picker_asks_for_two_ids_without_errors(client, owner):
    client.force_login(owner)
    response = client.get("/compare/")
    html = response.content.decode()
    assert response.status_code == 200 and 'id="compare-picker"' in html
    assert '<label for="id_a">Run A</label>' in html and 'role="alert"' not in html


def test_one_run_offers_its_experiments_ranked_runs_and_names_the_missing_field(client, owner, experiment, pair):
    client.force_login(owner)
    response = client.get(f"/compare/?a={pair[0].pk}")
    html = response.content.decode()
    assert response.status_code == 400
    chooser = html[html.index('<select name="b"'):]
    assert f'<option value="{pair[1].pk}">#1 · 0.900 · model=small-model, temperature=0.1</option>' in chooser
    errors = chooser[: chooser.index("</form>")]
    assert "Choose a second run to compare with." in errors
    assert f'<option value="{pair[0].pk}" selected>' in html[html.index('id="choose_a"'):]


def test_an_experiment_link_opens_the_picker_on_its_runs(client, owner, experiment, pair):
    client.force_login(owner)
    html = client.get(f"/compare/?experiment={experiment.pk}").content.decode()
    assert "From the ranked runs of <strong>Fact extraction v2</strong>" in html
    assert f'<option value="{pair[0].pk}">#2 · 0.600' in html


def test_a_malformed_id_is_refused_next_to_its_field(client, owner, pair):
    client.force_login(owner)
    response = client.get(f"/compare/?a=nope&b={pair[1].pk}")
    html = response.content.decode()
    assert response.status_code == 400
    assert html.index("Enter a valid run id.") < html.index('name="b"')


def test_htmx_picker_returns_only_the_picker(client, owner, pair):
    client.force_login(owner)
    html = htmx(client, f"/compare/?a={pair[0].pk}", target="compare-picker").content.decode()
    assert html.lstrip().startswith('<section id="compare-picker"') and "<html" not in html


# Who may see it

def test_another_users_run_is_a_404_page(client, other_user, owner, endpoint, pair):
    theirs = make_run(make_experiment(other_user, make_endpoint(other_user), name="theirs"), score=0.5)
    client.force_login(owner)
    assert client.get(url(pair[0], theirs)).status_code == 404
    assert client.get(f"/compare/?a={theirs.pk}").status_code == 404
    client.force_login(other_user)
    assert client.get(url(*pair)).status_code == 404
    assert client.get(f"/compare/?experiment={pair[0].experiment_id}").status_code == 404


def test_a_guest_reads_the_comparison_with_endpoint_ids_masked(client, guest_mode, owner, experiment, pair):
    second = Endpoint.objects.create(owner=owner, label="gpu-two", base_url="http://gpu.example.test/v1")
    moved = make_run(experiment, position=3, score=0.4, point={**BASE, "stages.0.endpoint": str(second.pk)})
    html = page(client, pair[0], moved)
    assert "stages.0.endpoint" in section(html, "compare-params")
    assert str(second.pk) not in html and str(experiment.pipeline_stages[0]["endpoint"]) not in html
    assert '<form method="post"' not in html.split('<main id="main"')[1]
    client.force_login(owner)
    assert str(second.pk) in page(client, pair[0], moved)


def test_without_guest_access_an_anonymous_visitor_is_sent_to_log_in(client, pair):
    response = client.get(url(*pair))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
