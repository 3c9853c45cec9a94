"""The format-neutral export document: one run's stages with endpoint URL and label, its score and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from apps.engine.significance import NO_TEST
from apps.exports.redaction import scrub
from apps.exports.selectors import EndpointInfo
from apps.runs.leaderboard import ranked_runs, weighted_interval
from apps.runs.models import Run, ScoreSummary
from apps.runs.significance import runs_compare

SCORE_DIGITS = 4


@dataclass
class StageDoc:
    name: str
    model: str
    endpoint: str
    endpoint_label: str
    provider: str
    params: dict = field(default_factory=dict)
    system_prompt: str = ""
    prompt_template: str = ""


@dataclass
class ExportDocument:
    experiment: str
    experiment_id: str
    run_id: str
    score: float | None
    score_ci: list[float] | None
    approval: str
    exported_at: str
    stages: list[StageDoc]
    significance: dict | None = None  # the run against the best other full run (docs/significance.md)

    @property
    def multi_stage(self) -> bool:
        return len(self.stages) != 1


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, SCORE_DIGITS)


def exported_at_text(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def stage_docs(stages: list[dict], endpoints: dict[str, EndpointInfo], secrets: list[str]) -> list[StageDoc]:
    docs = []
    for index, stage in enumerate(stages):
        info = endpoints.get(str(stage.get("endpoint") or ""))
        docs.append(StageDoc(
            name=str(stage.get("name") or f"stage{index + 1}"),
            model=str(stage.get("model") or ""),
            endpoint=info.url if info else "",
            endpoint_label=info.label if info else "(deleted endpoint)",
            provider=info.kind if info else "",
            params=scrub(dict(stage.get("params") or {}), secrets),
            system_prompt=scrub(stage.get("system_prompt") or "", secrets),
            prompt_template=scrub(stage.get("prompt_template") or "", secrets),
        ))
    return docs


def runner_up_significance(*, experiment, run: Run) -> dict | None:
    """The run against the best other finished run on all items, paired by item (run − other, two-sided)."""
    other = (ranked_runs(experiment=experiment).finished().filter(partial=False,
                                                                  weighted_score__isnull=False)
             .exclude(pk=run.pk).only("pk", "weighted_score").first())
    if other is None:
        return None
    alpha = experiment.spec.scoring.alpha
    test = runs_compare(a=other.pk, b=run.pk, specs=experiment.spec.scoring)
    if test.test == NO_TEST:
        verdict = "not paired"
    elif not test.significant(alpha):
        verdict = "tied"
    else:
        verdict = "better" if test.mean_difference > 0 else "worse"
    return {"compared_with": str(other.pk), "compared_score": rounded(other.weighted_score), "verdict": verdict,
            "tied": verdict == "tied", **test.as_dict(), "alpha": alpha, "significant": test.significant(alpha)}


def export_document(*, experiment, run: Run, summaries: list[ScoreSummary], endpoints: dict[str, EndpointInfo],
                    exported_at: datetime, secrets: list[str]) -> ExportDocument:
    """Everything an export shows about one run; API keys never enter it (scrubbed even from prompts)."""
    interval = weighted_interval(summaries)
    return ExportDocument(
        experiment=scrub(experiment.name, secrets),
        experiment_id=str(experiment.pk),
        run_id=str(run.pk),
        score=rounded(run.weighted_score),
        score_ci=[rounded(interval[0]), rounded(interval[1])] if interval else None,
        approval=run.approval,
        exported_at=exported_at_text(exported_at),
        stages=stage_docs(run.config.get("stages", []), endpoints, secrets),
        significance=runner_up_significance(experiment=experiment, run=run),
    )
