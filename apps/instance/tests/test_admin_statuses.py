"""Statuses change only through the guarded transitions: the admin shows them and never writes them."""

from __future__ import annotations

from apps.experiments.models import Experiment
from apps.instance.tests.conftest import admin_url
from apps.runs.models import Run, Sweep


def test_a_posted_experiment_status_is_ignored_while_the_other_fields_save(staff, world):
    page = staff.get(admin_url(Experiment, "change", world.experiment.pk))
    assert "status" not in page.context["adminform"].form.fields

    response = staff.post(admin_url(Experiment, "change", world.experiment.pk), {
        "name": "Renamed", "description": "", "repeats": 1, "budget_tokens": "", "budget_usd": "",
        "status": Experiment.Status.COMPLETED, "_save": "Save"})

    assert response.status_code == 302
    world.experiment.refresh_from_db()
    assert (world.experiment.name, world.experiment.status) == ("Renamed", Experiment.Status.DRAFT)


def test_sweep_and_run_pages_cannot_be_saved_so_their_statuses_stay(staff, world):
    run = world.runs[0]
    sweep_post = staff.post(admin_url(Sweep, "change", world.sweep.pk), {"status": "completed", "_save": "Save"})
    run_post = staff.post(admin_url(Run, "change", run.pk), {"status": "failed", "_save": "Save"})

    assert (sweep_post.status_code, run_post.status_code) == (403, 403)
    world.sweep.refresh_from_db()
    run.refresh_from_db()
    assert (world.sweep.status, run.status) == (Sweep.Status.PENDING, Run.Status.COMPLETED)
    page = staff.get(admin_url(Sweep, "change", world.sweep.pk))
    assert page.status_code == 200 and not page.context["has_change_permission"]
