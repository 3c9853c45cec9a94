import pytest

from apps.runs.models import Run, Score
from apps.web.tests.builders import htmx
from apps.web.tests.run_builders import make_output_run, make_rating_experiment

pytestmark = pytest.mark.django_db


@pytest.fixture
def rating_experiment(project):
    experiment = make_rating_experiment(project)
    make_output_run(experiment, position=0, point={"stages.0.params.temperature": 0.1})
    make_output_run(experiment, position=1, point={"stages.0.params.temperature": 0.9})
    make_output_run(experiment, position=2, status=Run.Status.PENDING)  # unfinished: nothing to rate
    return experiment


def queue_url(experiment, **query):
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/experiments/{experiment.pk}/rate/" + (f"?{suffix}" if suffix else "")


def first_run(experiment):
    return Run.objects.get(experiment=experiment, position=0)


def rate(client, experiment, run, *, item_id="i0", hx=False, skip=0, **data):
    body = {"run": run.pk, "item_id": item_id, "repeat": 0, "skip": skip, "comment": "", **data}
    if hx:
        return htmx(client, queue_url(experiment), target="rating-queue", method="post", data=body)
    return client.post(queue_url(experiment), body)


def test_the_queue_shows_the_first_unrated_output_with_its_input_reference_and_point(
        client, owner, rating_experiment):
    client.force_login(owner)
    html = client.get(queue_url(rating_experiment)).content.decode()
    assert "0 of 4 rated" in html
    assert "Email number 0 asks for a refund" in html and "Refund reply 0" in html
    assert "Answer i0/0/1: we will refund you" in html  # the last stage's output
    assert "Answer i0/0/0" not in html
    assert "stages.0.params.temperature" in html and "0.1" in html
    assert "Save rating" in html and "Keyboard shortcuts" in html and "rating.js" in html


def test_saving_a_rating_loads_the_next_output_and_counts_it(client, owner, rating_experiment):
    client.force_login(owner)
    response = rate(client, rating_experiment, first_run(rating_experiment), hx=True, stars=5)
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section id="rating-queue"')
    assert "1 of 4 rated" in html and "Answer i1/0/1" in html
    assert Score.objects.get(rated_by=owner).value == 1.0


def test_without_javascript_a_rating_redirects_to_the_next_output(client, owner, rating_experiment):
    client.force_login(owner)
    response = rate(client, rating_experiment, first_run(rating_experiment), thumbs="up")
    assert response.status_code == 302 and response["Location"] == queue_url(rating_experiment, skip=0)
    html = client.get(response["Location"]).content.decode()
    assert "Rating saved." in html and "1 of 4 rated" in html and "Answer i1/0/1" in html


def test_rated_outputs_are_skipped(client, owner, rating_experiment):
    run = first_run(rating_experiment)
    for item_id in ("i0", "i1"):
        Score.objects.create(run=run, scorer_name="human", item_id=item_id, repeat=0, value=1.0, rated_by=owner,
                             metadata={"rating": {"thumbs": "up"}})
    client.force_login(owner)
    html = client.get(queue_url(rating_experiment)).content.decode()
    assert "2 of 4 rated" in html and "0.9" in html and "Answer i0/0/1" in html
    assert f"/runs/{Run.objects.get(experiment=rating_experiment, position=1).pk}/" in html


def test_skip_moves_on_without_rating(client, owner, rating_experiment):
    client.force_login(owner)
    html = htmx(client, queue_url(rating_experiment, skip=1), target="rating-queue").content.decode()
    assert html.lstrip().startswith('<section id="rating-queue"') and "<html" not in html
    assert "Answer i1/0/1" in html and "0 of 4 rated" in html and "skip=2" in html
    assert not Score.objects.filter(rated_by__isnull=False).exists()


def test_skipping_past_the_end_offers_to_start_again(client, owner, rating_experiment):
    client.force_login(owner)
    html = client.get(queue_url(rating_experiment, skip=4)).content.decode()
    assert "You skipped the remaining 4 unrated outputs." in html and "Start again" in html


def test_when_everything_is_rated_the_queue_says_so_and_links_back(client, owner, rating_experiment):
    client.force_login(owner)
    for run in Run.objects.filter(experiment=rating_experiment).finished():
        for item_id in ("i0", "i1"):
            assert rate(client, rating_experiment, run, item_id=item_id, hx=True, stars=3).status_code == 200
    html = client.get(queue_url(rating_experiment)).content.decode()
    assert "4 of 4 rated" in html and "All outputs rated." in html
    assert f'href="/experiments/{rating_experiment.pk}/">Back to the live view' in html
    assert "Save rating" not in html


def test_six_stars_keep_the_same_output_with_the_error_and_save_nothing(client, owner, rating_experiment):
    client.force_login(owner)
    response = rate(client, rating_experiment, first_run(rating_experiment), item_id="i1", hx=True, stars=6)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Must be a whole number from 1 to 5." in html and "Answer i1/0/1" in html
    assert not Score.objects.filter(rated_by__isnull=False).exists()


def test_a_run_of_another_experiment_is_refused(client, owner, project, rating_experiment):
    elsewhere = make_output_run(make_rating_experiment(project, name="Other"))
    client.force_login(owner)
    response = rate(client, rating_experiment, elsewhere, hx=True, stars=2)
    assert response.status_code == 400 and "another experiment" in response.content.decode()
    assert not Score.objects.filter(rated_by__isnull=False).exists()


def test_an_experiment_without_finished_runs_has_nothing_to_rate(client, owner, project):
    experiment = make_rating_experiment(project, name="Fresh")
    client.force_login(owner)
    html = client.get(queue_url(experiment)).content.decode()
    assert "Nothing to rate yet" in html and "0 of 0 rated" in html


def test_another_users_queue_is_not_found(client, other_user, rating_experiment):
    client.force_login(other_user)
    assert client.get(queue_url(rating_experiment)).status_code == 404
    assert rate(client, rating_experiment, first_run(rating_experiment), stars=5).status_code == 404
    assert not Score.objects.filter(rated_by__isnull=False).exists()


def test_a_guest_is_sent_to_log_in_and_cannot_rate(client, guest_mode, rating_experiment):
    response = client.get(queue_url(rating_experiment))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = rate(client, rating_experiment, first_run(rating_experiment), stars=5)
    assert response.status_code == 302
    assert not Score.objects.filter(rated_by__isnull=False).exists()


def test_without_guest_access_an_anonymous_visitor_is_sent_to_log_in(client, admin_user, rating_experiment):
    response = client.get(queue_url(rating_experiment))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
