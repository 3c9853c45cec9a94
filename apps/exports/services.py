"""Render an export of an experiment's best (or chosen) run and record that it was taken."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.text import slugify

from apps.core.types import Id, Viewer
from apps.exports import selectors
from apps.exports.document import export_document, stage_docs
from apps.exports.formats import env_export, json_export, report, yaml_export
from apps.exports.models import ExportRecord
from apps.exports.redaction import owner_secrets, scrub
from apps.runs.label_reports import run_label_reports
from apps.runs.leaderboard import leaderboard_rows
from apps.runs.masking import endpoints_hidden
from apps.runs.significance import best_comparisons

if TYPE_CHECKING:
    from apps.experiments.models import Experiment

CONTENT_TYPES = {
    ExportRecord.Format.JSON: ("application/json", "json"),
    ExportRecord.Format.ENV: ("text/plain; charset=utf-8", "env"),
    ExportRecord.Format.YAML: ("application/yaml; charset=utf-8", "yaml"),
    ExportRecord.Format.REPORT: ("text/markdown; charset=utf-8", "md"),
}
SIMPLE_RENDERERS = {
    ExportRecord.Format.JSON: json_export.render,
    ExportRecord.Format.ENV: env_export.render,
    ExportRecord.Format.YAML: yaml_export.render,
}


@dataclass(frozen=True)
class ExportResult:
    content: str
    content_type: str
    filename: str


def _endpoint_ids(*configs_stages: list[dict]) -> set[str]:
    return {str(stage.get("endpoint")) for stages in configs_stages for stage in stages if stage.get("endpoint")}


def _endpoint_name(info: selectors.EndpointInfo) -> str:
    return f"{info.label} ({info.url})" if info.url else info.label


def _report_inputs(*, experiment, doc, run, summaries, endpoints, secrets, baseline_id,
                   hidden: bool) -> report.ReportInputs:
    baseline = selectors.baseline_run(experiment=experiment, run_id=baseline_id)
    if baseline is not None:
        extra = _endpoint_ids(baseline.config.get("stages", [])) - set(endpoints)
        if extra:
            endpoints = {**endpoints, **selectors.endpoint_directory(
                owner_id=experiment.project.owner_id, endpoint_ids=extra, with_urls=not hidden)}
    total, rows = leaderboard_rows(experiment=experiment, limit=report.LEADERBOARD_SIZE)
    sweeps_total, sweeps = selectors.experiment_sweeps(experiment=experiment)
    return report.ReportInputs(
        experiment=experiment, doc=doc, best=run, best_summaries=summaries, best_yaml=yaml_export.render(doc),
        leaderboard_total=total, leaderboard=rows,
        base_stages=stage_docs(experiment.pipeline_stages, endpoints, secrets),
        endpoint_names={pk: _endpoint_name(info) for pk, info in endpoints.items()}, hide_endpoints=hidden,
        sweeps_total=sweeps_total, sweeps=sweeps, run_counts=selectors.experiment_run_counts(experiment=experiment),
        totals=selectors.experiment_totals(experiment=experiment), baseline=baseline,
        baseline_summaries=selectors.run_summaries(run=baseline) if baseline else [],
        ratings=selectors.human_ratings(experiment=experiment), secrets=secrets,
        label_reports=run_label_reports(run=run),
        significance=best_comparisons(best=run.pk, run_ids=[row.run.pk for row in rows if not row.partial],
                                      specs=experiment.spec.scoring),
    )


def export_render(
    *, user: Viewer, experiment: Experiment, fmt: str, run_id: Id | None = None, baseline_id: Id | None = None
) -> ExportResult:
    """One export (json, env, yaml or report) of the best or chosen run; writes an ExportRecord.

    Raises NotFound when there is no finished run to export. A reader other than
    the owner (a guest) gets endpoint labels only: no endpoint id, no URL.
    """
    fmt = ExportRecord.Format(fmt)
    run = selectors.export_run_choose(experiment=experiment, run_id=run_id)
    owner_id = experiment.project.owner_id
    secrets = owner_secrets(owner_id=owner_id)
    hidden = endpoints_hidden(viewer=user, owner_id=owner_id)
    endpoints = selectors.endpoint_directory(
        owner_id=owner_id, endpoint_ids=_endpoint_ids(run.config.get("stages", []), experiment.pipeline_stages),
        with_urls=not hidden)
    summaries = selectors.run_summaries(run=run)
    doc = export_document(experiment=experiment, run=run, summaries=summaries, endpoints=endpoints,
                          exported_at=timezone.now(), secrets=secrets)
    if fmt == ExportRecord.Format.REPORT:
        content = report.render(_report_inputs(experiment=experiment, doc=doc, run=run, summaries=summaries,
                                               endpoints=endpoints, secrets=secrets, baseline_id=baseline_id,
                                               hidden=hidden))
    else:
        content = SIMPLE_RENDERERS[fmt](doc)
    # Last line of defence: a key pasted into any text that reached the output is still removed.
    content = scrub(content, secrets)
    ExportRecord.objects.create(project_id=experiment.project_id, experiment=experiment, run=run, format=fmt,
                                created_by=user if user.is_authenticated else None)
    content_type, extension = CONTENT_TYPES[fmt]
    stem = slugify(experiment.name) or "experiment"
    suffix = {"json": "-best", "md": "-report"}.get(extension, "")
    return ExportResult(content=content, content_type=content_type, filename=f"{stem}{suffix}.{extension}")
