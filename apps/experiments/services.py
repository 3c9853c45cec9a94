from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from apps.core.errors import Forbidden, InvalidInput
from apps.core.jsonsafety import UnsafeJSON, check_json
from apps.core.queue import enqueue_on_commit
from apps.experiments.models import Experiment
from apps.experiments.points import point_apply, point_blame, point_values
from apps.experiments.secrets import scoring_config_unmask
from apps.experiments.selectors import user_endpoint_ids
from apps.experiments.validation import CONFIG_FIELDS, validate_experiment
from apps.projects.models import Project

if TYPE_CHECKING:
    from apps.accounts.models import User

REQUIRED_ON_REPLACE = ("name", "pipeline_stages")
RESCORE_TASK = "apps.runs.tasks.experiment_rescore"


def experiment_validate(*, user: User, data: dict, endpoint_ids: set[str] | None = None) -> dict:
    """Normalized experiment fields for this user (their endpoints; Python scorers for admins only).

    `endpoint_ids` saves a query when validating many configurations of one user.
    """
    # MCP and other callers reach this without the API's JSON parser, so repeat its safety checks.
    try:
        check_json(data, max_depth=settings.MAX_JSON_DEPTH)
    except UnsafeJSON as exc:
        raise InvalidInput(errors={exc.path: [exc.message]}) from None
    return validate_experiment(
        data,
        endpoint_ids=user_endpoint_ids(user=user) if endpoint_ids is None else endpoint_ids,
        max_items=settings.MAX_SAMPLE_ITEMS,
        max_stages=settings.MAX_STAGES,
        max_template_chars=settings.MAX_TEMPLATE_CHARS,
        allow_python=settings.SCORERS_PYTHON_ENABLED and user.is_superuser,
    )


def experiment_point_validate(*, user: User, data: dict, point: dict) -> tuple[dict, dict]:
    """`data` with `point` applied to its stages, validated as one configuration for this user.

    Returns (normalized fields, the point with normalized values); errors in a value the point
    set are keyed `point.<path>`, as are paths that no parameter-space axis could name.
    """
    point, stages = point_apply(point, data.get("pipeline_stages"))
    try:
        fields = experiment_validate(user=user, data={**data, "pipeline_stages": stages})
    except InvalidInput as exc:
        raise InvalidInput(errors=point_blame(exc.errors, point)) from None
    return fields, point_values(point, fields["pipeline_stages"])


def experiment_create(*, user: User, project: Project, data: dict) -> Experiment:
    """Validate `data` (see apps.experiments.validation) and create a draft experiment in `project`."""
    if project.owner_id != user.pk:
        raise InvalidInput(errors={"project": ["Unknown project."]})
    fields = experiment_validate(user=user, data=data)
    return Experiment.objects.create(project=project, **fields)


def experiment_update(*, user: User, experiment: Experiment, data: dict, partial: bool) -> Experiment:
    """Replace the config fields given, validate the merged result, and save it (or change nothing).

    A full update (PUT) must name the required fields; fields it leaves out keep their values.
    """
    if experiment.project.owner_id != user.pk:
        raise Forbidden("Only the owner can change an experiment.")
    if not isinstance(data, dict):
        raise InvalidInput(errors={"non_field_errors": ["Expected an object."]})
    missing = [] if partial else [field for field in REQUIRED_ON_REPLACE if field not in data]
    if missing:
        raise InvalidInput(errors={field: ["This field is required."] for field in missing})
    given = {field: data[field] for field in CONFIG_FIELDS if field in data}
    if isinstance(given.get("scoring_config"), dict):
        given["scoring_config"] = scoring_config_unmask(given["scoring_config"], experiment.scoring_config)
    merged = {field: getattr(experiment, field) for field in CONFIG_FIELDS} | given
    fields = experiment_validate(user=user, data=merged)
    with transaction.atomic():
        # Lock the row so a concurrent update cannot interleave with this one's write.
        locked = Experiment.objects.select_for_update().get(pk=experiment.pk)
        previous_scoring = locked.scoring_config
        for field, value in fields.items():
            setattr(locked, field, value)
        locked.save(update_fields=[*fields, "updated_at"])
        if fields.get("scoring_config") != previous_scoring and locked.runs.exists():
            # Adding, removing or reweighting scorers re-scores stored outputs; no generation calls.
            enqueue_on_commit(RESCORE_TASK, str(locked.pk), task_name=f"rescore {locked.pk}")
    for field, value in fields.items():
        setattr(experiment, field, value)
    experiment.updated_at = locked.updated_at
    return experiment


def experiment_delete(*, experiment: Experiment) -> None:
    """Delete the experiment with its sweeps, runs, results and scores."""
    experiment.delete()
