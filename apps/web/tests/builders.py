"""Small ORM builders for page tests: a project with an experiment, sweeps, runs and events."""

from __future__ import annotations

from apps.activity.kinds import Kind
from apps.activity.services import event_emit
from apps.experiments.models import Experiment
from apps.projects.models import Project
from apps.runs.models import Run, Sweep


def make_project(owner, name: str = "Support replies", **fields) -> Project:
    return Project.objects.create(owner=owner, name=name, **fields)


def make_experiment(project: Project, name: str = "Tone check") -> Experiment:
    return Experiment.objects.create(project=project, name=name)


def make_sweep(experiment: Experiment, *, status=Sweep.Status.RUNNING, total=8, done=3) -> Sweep:
    return Sweep.objects.create(experiment=experiment, kind=Sweep.Kind.GRID, status=status,
                                runs_total=total, runs_done=done)


def make_run(experiment: Experiment, *, score=0.5, calls=4, cache_hits=1, tokens_in=100, tokens_out=50,
             cost="0.0125", approval="") -> Run:
    return Run.objects.create(
        experiment=experiment, config={}, config_hash=f"{Run.objects.count():064d}", status=Run.Status.COMPLETED,
        weighted_score=score, calls=calls, cache_hits=cache_hits, tokens_in=tokens_in, tokens_out=tokens_out,
        cost_estimate=cost, approval=approval,
    )


def make_event(experiment: Experiment, kind: Kind = Kind.RUN_COMPLETED, **payload):
    return event_emit(kind=kind, experiment=experiment, payload=payload)


def htmx(client, url, *, target=None, method="get", **kwargs):
    """A request as htmx sends it (HX-Request, and HX-Target naming the element it swaps)."""
    headers = {"HX-Request": "true", **({"HX-Target": target} if target else {})}
    return getattr(client, method)(url, headers=headers, **kwargs)
