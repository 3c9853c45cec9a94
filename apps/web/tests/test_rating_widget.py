import pytest

from apps.activity.kinds import Kind
from apps.activity.models import Event
from apps.live.groups import experiment_group, targets_for
from apps.live.pushes import push_build
from apps.runs.models import Run, Score
from apps.web.tests.builders import htmx
from apps.web.tests.run_builders import KEYWORD, make_output_run, make_rating_experiment

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(project):
    return make_output_run(make_rating_experiment(project))


def rate(client, run, *, hx=False, **data):
    body = {"item_id": "i0", "repeat": 0, "comment": "", **data}
    if hx:
        return htmx(client, f"/runs/{run.pk}/rate/", method="post", data=body)
    return client.post(f"/runs/{run.pk}/rate/", body)


def test_a_star_rating_saves_and_the_widget_shows_it(client, owner, run):
    client.force_login(owner)
    response = rate(client, run, hx=True, stars=4, comment="Polite and short")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<form id="rating-') and "Rating saved." in html
    assert "4 of 5 stars" in html and "Polite and short" in html
    score = Score.objects.get(run=run, scorer_name="human")
    assert (score.value, score.item_id, score.repeat, score.rated_by) == (0.75, "i0", 0, owner)


def test_a_rating_changes_the_runs_weighted_score(client, owner, run):
    client.force_login(owner)
    rate(client, run, hx=True, thumbs="down")
    run.refresh_from_db()
    assert run.weighted_score == pytest.approx(0.5)  # keyword 1.0 and human 0.0, equal weights


def test_without_javascript_a_rating_goes_back_to_the_run_page(client, owner, run):
    client.force_login(owner)
    response = rate(client, run, thumbs="up", next=f"/runs/{run.pk}/?page=1")
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.pk}/?page=1"
    page = client.get(response["Location"]).content.decode()
    assert "Rating saved." in page and "thumbs up" in page


def test_a_foreign_next_address_is_not_followed(client, owner, run):
    client.force_login(owner)
    response = rate(client, run, thumbs="up", next="https://evil.example/")
    assert response["Location"] == f"/runs/{run.pk}/"


def test_six_stars_are_refused_next_to_the_stars_and_nothing_is_saved(client, owner, run):
    client.force_login(owner)
    response = rate(client, run, hx=True, stars=6)
    html = response.content.decode()
    assert response.status_code == 400
    stars = html.index("<legend>Stars</legend>")
    assert html.index("Must be a whole number from 1 to 5.", stars) < html.index('name="comment"')
    assert not Score.objects.filter(scorer_name="human").exists()


def test_thumbs_and_stars_together_are_refused_as_the_api_does(client, owner, run):
    client.force_login(owner)
    response = rate(client, run, hx=True, stars=5, thumbs="up", comment="keep me")
    html = response.content.decode()
    assert response.status_code == 400 and "Give exactly one rating" in html
    assert "keep me" in html and 'value="5" checked' in html
    assert not Score.objects.filter(scorer_name="human").exists()


def test_an_item_the_run_does_not_have_is_refused_without_javascript_on_its_own_page(client, owner, run):
    client.force_login(owner)
    response = rate(client, run, stars=3, item_id="i99")
    html = response.content.decode()
    assert response.status_code == 400 and "<html" in html
    assert "This run has no output for item" in html and "i99" in html
    assert not Score.objects.filter(scorer_name="human").exists()


def test_without_a_human_scorer_ratings_count_under_a_weight_zero_human_scorer(client, owner, project):
    run = make_output_run(make_rating_experiment(project, scorers=(KEYWORD,), name="Keywords only"))
    client.force_login(owner)
    assert "weight-0" in client.get(f"/runs/{run.pk}/").content.decode()
    assert rate(client, run, hx=True, stars=1).status_code == 200
    run.refresh_from_db()
    assert Score.objects.get(rated_by=owner).scorer_name == "human" and run.weighted_score == pytest.approx(1.0)


def test_a_rating_is_recorded_as_an_event_pushed_to_the_experiment_group(client, owner, run):
    client.force_login(owner)
    rate(client, run, hx=True, stars=5)
    event = Event.objects.get(kind=Kind.RUN_RATED)
    assert event.payload["run_id"] == str(run.pk) and event.payload["value"] == 1.0
    routed = targets_for([event], guests=False)
    [(target, batch)] = [(t, b) for t, b in routed.items() if t.group == experiment_group(run.experiment_id)]
    push = push_build(target, batch)
    assert [e["kind"] for e in push["events"]] == ["run.rated"]


def test_a_guest_cannot_rate(client, guest_mode, run):
    response = rate(client, run, stars=5)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not Score.objects.filter(scorer_name="human").exists()


def test_another_user_cannot_rate_my_run(client, other_user, run):
    client.force_login(other_user)
    assert rate(client, run, stars=5).status_code == 404
    assert not Score.objects.filter(scorer_name="human").exists()


def test_rating_is_a_post_only_action(client, owner, run):
    client.force_login(owner)
    assert client.get(f"/runs/{run.pk}/rate/").status_code == 405


def test_an_unfinished_output_offers_no_widget(client, owner, project):
    run = make_output_run(make_rating_experiment(project), status=Run.Status.FAILED, fail_item="i1")
    client.force_login(owner)
    assert client.get(f"/runs/{run.pk}/").content.decode().count("Save rating") == 1
