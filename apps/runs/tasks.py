"""django-q2 task entry points: they take ids and call one function."""

from __future__ import annotations


def sweep_drive(sweep_id: str) -> None:
    from apps.runs.driver import sweep_drive as drive

    drive(sweep_id)


def sweeps_reconcile() -> int:
    from apps.runs.services.reconcile import sweeps_reconcile as reconcile

    return reconcile()


def experiment_rescore(experiment_id: str) -> int:
    from apps.runs.rescoring import experiment_rescore as rescore

    return rescore(experiment_id=experiment_id)
