"""The live view's dry-run panel and start, the redirect page, and progress numbers from a real sweep."""

import json

import pytest

from apps.runs.driver import sweep_drive
from apps.runs.models import Run, Sweep
from apps.web.tests.builders import htmx
from apps.web.tests.live_fixtures import endpoint_fixture, runnable_fixture, started_fixture, url  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_estimate_shows_the_rest_dry_runs_numbers_and_the_start_button_says_what_it_spends(
        client, api, owner, runnable):
    rest = api.post(f"/api/v1/experiments/{runnable.pk}/sweep", {"type": "grid", "dry_run": True},
                    format="json").json()
    client.force_login(owner)
    html = htmx(client, url("experiment_estimate", runnable) + "?type=grid", target="experiment-estimate")
    html = html.content.decode()
    assert html.lstrip().startswith('<div id="experiment-estimate"') and "<html" not in html
    estimate = rest["estimate"]
    assert f"<dt>Runs</dt><dd>{rest['runs']}</dd>" in html and f"<dt>Calls</dt><dd>{rest['calls']}</dd>" in html
    assert f"<dt>Cached calls (free)</dt><dd>{estimate['cached_calls']}</dd>" in html
    tokens = estimate["tokens_in"] + estimate["tokens_out"]
    assert f"Start 4 runs · ≈ {tokens:,} tokens · ≈ ${estimate['cost_usd']:.4f}" in html


def test_without_javascript_the_estimate_is_the_whole_page_with_the_numbers(client, owner, runnable):
    client.force_login(owner)
    html = client.get(url("experiment_estimate", runnable) + "?type=random&n=2&seed=1").content.decode()
    assert "<html" in html and "<dt>Runs</dt><dd>2</dd>" in html and "Start 2 runs" in html


def test_an_estimate_with_a_bad_option_says_what_to_fix(client, owner, runnable):
    client.force_login(owner)
    html = htmx(client, url("experiment_estimate", runnable) + "?type=grid&sample_ids=nope",
                target="experiment-estimate").content.decode()
    assert "No estimate until this is fixed" in html and "Unknown sample item id(s): nope" in html


def test_a_guided_sweep_is_estimated_for_its_n_configurations(client, owner, runnable):
    client.force_login(owner)
    html = htmx(client, url("experiment_estimate", runnable) + "?type=guided&n=4",
                target="experiment-estimate").content.decode()
    assert "<dt>Runs</dt><dd>4</dd>" in html and "plans as it goes from the scores" in html
    assert "Start 4 runs" in html


def test_the_estimate_is_the_owners_only(client, other_user, runnable):
    client.force_login(other_user)
    assert client.get(url("experiment_estimate", runnable) + "?type=grid").status_code == 404


def test_starting_shows_the_running_sweep_on_the_page(client, owner, runnable):
    client.force_login(owner)
    response = client.post(url("sweep_start", runnable), {"type": "random", "n": "3", "seed": "5"}, follow=True)
    html = response.content.decode()
    assert "Sweep started: 3 runs planned." in html and "0 of 3 runs" in html and ">Pause</button>" in html
    assert Sweep.objects.get(experiment=runnable).kind == "random"


def test_start_with_an_invalid_option_shows_the_error_next_to_its_field(client, owner, runnable):
    client.force_login(owner)
    response = client.post(url("sweep_start", runnable), {"type": "random"})
    assert response.status_code == 400
    assert response.context["sweep_form"].errors["n"] == ["A random sweep needs n, the number of configurations."]
    html = response.content.decode()
    assert html.index('for="id_n"') < html.index("A random sweep needs n") < html.index('for="id_batch"')
    response = client.post(url("sweep_start", runnable), {"type": "grid", "sample_ids": "i0, zzz"})
    assert response.context["sweep_form"].errors["sample_ids"] == ["Unknown sample item id(s): zzz"]
    assert not Sweep.objects.exists()


def test_starting_while_a_sweep_is_in_progress_is_refused_with_a_message(client, owner, started):
    client.force_login(owner)
    response = client.post(url("sweep_start", started.experiment), {"type": "grid"})
    assert response.status_code == 400
    assert "already has a sweep in progress" in response.content.decode()
    assert Sweep.objects.count() == 1


def test_the_redirect_page_shows_the_remaining_plan_and_its_space(client, owner, started):
    client.force_login(owner)
    html = client.get(url("experiment_redirect", started.experiment)).content.decode()
    assert "4 queued runs not started yet" in html and "stages.0.params.temperature" in html


def test_a_redirect_to_a_narrower_space_shrinks_the_remaining_plan(client, owner, started):
    client.force_login(owner)
    space = [{"path": "stages.0.params.temperature", "values": [0.1, 0.3]}]
    response = client.post(url("experiment_redirect", started.experiment),
                           {"parameter_space": json.dumps(space)}, follow=True)
    assert "Plan redirected: 4 queued runs dropped, 2 planned." in response.content.decode()
    assert Run.objects.filter(sweep=started, status=Run.Status.PENDING).count() == 2
    remaining = client.get(url("experiment_redirect", started.experiment)).content.decode()
    assert "2 queued runs not started yet" in remaining


def test_a_bad_axis_or_bad_json_is_shown_next_to_the_space(client, owner, started):
    client.force_login(owner)
    bad_axis = [{"path": "stages.0.params.temperature", "values": []}]
    response = client.post(url("experiment_redirect", started.experiment), {"parameter_space": json.dumps(bad_axis)})
    assert response.status_code == 400 and response.context["form"].errors["parameter_space"]
    assert 'id="id_parameter_space"' in response.content.decode()
    response = client.post(url("experiment_redirect", started.experiment), {"parameter_space": "[{"})
    assert response.context["form"].errors["parameter_space"][0].startswith("Not valid JSON")
    assert Run.objects.filter(sweep=started, status=Run.Status.PENDING).count() == 4


def test_the_redirect_page_is_the_owners_only(client, other_user, guest_mode, started):
    assert client.get(url("experiment_redirect", started.experiment)).status_code == 302  # a guest: log in
    client.force_login(other_user)
    assert client.get(url("experiment_redirect", started.experiment)).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_after_a_real_sweep_the_progress_shows_its_runs_tokens_cost_and_cache_hits(
        client, owner, runnable, monkeypatch, fake_llm):
    monkeypatch.setattr("apps.runs.services.sweeps.async_task", lambda *args, **kwargs: None)
    client.force_login(owner)
    client.post(url("sweep_start", runnable), {"type": "grid"})
    sweep = Sweep.objects.get(experiment=runnable)
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED and sweep.tokens_in > 0
    html = htmx(client, url("experiment", runnable), target="experiment-progress").content.decode()
    assert "4 of 4 runs" in html and 'data-sweep-status="completed"' in html
    assert f"<dd>{sweep.tokens_in:,} / {sweep.tokens_out:,}</dd>" in html
    assert f"${sweep.cost_usd:.4f}" in html and "<dt>Cache-hit rate</dt><dd>0.0%</dd>" in html
    assert "<dt>ETA</dt><dd>–</dd>" in html


def test_a_redirect_counts_the_queued_runs_it_drops_not_their_events(client, owner, started):
    from apps.activity.kinds import Kind
    from apps.activity.services import event_emit

    requeued = Run.objects.filter(sweep=started).first()  # claimed once, then put back in the queue
    event_emit(kind=Kind.RUN_STARTED, experiment=started.experiment, sweep=started, run_id=requeued.pk)
    client.force_login(owner)
    space = [{"path": "stages.0.params.temperature", "values": [0.9]}]
    response = client.post(url("experiment_redirect", started.experiment),
                           {"parameter_space": json.dumps(space)}, follow=True)
    assert "Plan redirected: 4 queued runs dropped, 1 planned." in response.content.decode()


def preview(client, experiment, **data):
    return htmx(client, url("experiment_redirect_preview", experiment), method="post", target="redirect-preview",
                data=data).content.decode()


def test_the_redirect_preview_gives_the_size_of_the_new_plan_and_changes_nothing(client, owner, started):
    client.force_login(owner)
    page = client.get(url("experiment_redirect", started.experiment)).content.decode()
    assert f'hx-post="{url("experiment_redirect_preview", started.experiment)}"' in page
    space = json.dumps([{"path": "stages.0.params.temperature", "values": [0.1, 0.3]}])
    html = preview(client, started.experiment, parameter_space=space)
    assert html.lstrip().startswith('<div id="redirect-preview"') and "<html" not in html
    assert "<strong>4</strong> queued runs dropped, <strong>2</strong> planned instead" in html
    assert "the sweep becomes 2 runs in all" in html
    assert Run.objects.filter(sweep=started, status=Run.Status.PENDING).count() == 4
    applied = client.post(url("experiment_redirect", started.experiment), {"parameter_space": space}, follow=True)
    assert "Plan redirected: 4 queued runs dropped, 2 planned." in applied.content.decode()


def test_the_redirect_preview_leaves_out_configurations_already_run(client, owner, started):
    done = next(run for run in Run.objects.filter(sweep=started) if run.point["stages.0.params.temperature"] == 0.1)
    Run.objects.filter(pk=done.pk).update(status=Run.Status.COMPLETED)
    client.force_login(owner)
    space = json.dumps([{"path": "stages.0.params.temperature", "values": [0.1, 0.9]}])
    html = preview(client, started.experiment, parameter_space=space)
    assert "<strong>3</strong> queued runs dropped, <strong>1</strong> planned instead" in html
    assert "the sweep becomes 2 runs in all" in html
    applied = client.post(url("experiment_redirect", started.experiment), {"parameter_space": space}, follow=True)
    assert "Plan redirected: 3 queued runs dropped, 1 planned." in applied.content.decode()


def test_a_redirect_preview_of_a_bad_space_says_why(client, owner, started):
    client.force_login(owner)
    bad_axis = json.dumps([{"path": "stages.0.params.temperature", "values": []}])
    assert "This space cannot be applied" in preview(client, started.experiment, parameter_space=bad_axis)
    assert "Not valid JSON" in preview(client, started.experiment, parameter_space="[{")
    Sweep.objects.filter(pk=started.pk).update(status=Sweep.Status.COMPLETED)
    space = json.dumps([{"path": "stages.0.params.temperature", "values": [0.1]}])
    assert "No sweep of this experiment is" in preview(client, started.experiment, parameter_space=space)


def test_the_redirect_preview_is_the_owners_only(client, other_user, guest_mode, started):
    space = json.dumps([{"path": "stages.0.params.temperature", "values": [0.1]}])
    response = client.post(url("experiment_redirect_preview", started.experiment), {"parameter_space": space})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    client.force_login(other_user)
    assert preview_status(client, started.experiment, space) == 404


def preview_status(client, experiment, space) -> int:
    return client.post(url("experiment_redirect_preview", experiment), {"parameter_space": space}).status_code
