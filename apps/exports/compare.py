"""Side-by-side comparison of two visible runs: config diff, per-item output diffs, scores and totals."""

from __future__ import annotations

from django.db.models import Avg
from django.shortcuts import get_object_or_404

from apps.core.permissions import visible_to
from apps.experiments.secrets import point_endpoints_masked
from apps.exports.diffing import config_diff, flatten, text_diff
from apps.exports.redaction import owner_secrets, scrub
from apps.runs.leaderboard import weighted_interval
from apps.runs.masking import diff_endpoints_masked, endpoints_hidden
from apps.runs.models import Run, Score, ScoreSummary
from apps.runs.outputs import run_final_outputs
from apps.runs.significance import runs_compare

TOTAL_FIELDS = ("tokens_in", "tokens_out", "cost_estimate", "duration_ms", "mean_latency_ms", "calls", "cache_hits")


def run_visible(*, user, run_id) -> Run:
    """A run the user may read (own; a guest sees all), or Http404."""
    qs = Run.objects.select_related("experiment__project").annotate(mean_latency_ms=Avg("stage_results__latency_ms"))
    return get_object_or_404(visible_to(qs, user, owner="experiment__project__owner"), pk=run_id)


def _number(value):
    return None if value is None else (value if isinstance(value, (int, float)) else float(value))


def _run_info(run: Run, *, hidden: bool) -> dict:
    return {"id": str(run.pk), "experiment": str(run.experiment_id), "experiment_name": run.experiment.name,
            "status": run.status, "approval": run.approval,
            "point": point_endpoints_masked(run.point) if hidden else run.point,
            "weighted_score": run.weighted_score}


def _interval(summary: ScoreSummary | None) -> list[float] | None:
    if summary is None or summary.ci_low is None:
        return None
    return [summary.ci_low, summary.ci_high]


def _delta(a, b):
    return None if a is None or b is None else round(b - a, 6)


def _score_table(a: Run, b: Run) -> tuple[dict, dict]:
    summaries: dict[str, dict[str, ScoreSummary]] = {"a": {}, "b": {}}
    for s in ScoreSummary.objects.filter(run__in=[a, b]).order_by("scorer_name"):
        for side, run in (("a", a), ("b", b)):
            if s.run_id == run.pk:
                summaries[side][s.scorer_name] = s
    names = list(summaries["a"]) + [n for n in summaries["b"] if n not in summaries["a"]]
    scores = {}
    for name in names:
        sa, sb = summaries["a"].get(name), summaries["b"].get(name)
        mean_a, mean_b = (sa.mean if sa else None), (sb.mean if sb else None)
        scores[name] = {"mean_a": mean_a, "mean_b": mean_b, "delta": _delta(mean_a, mean_b),
                        "ci_a": _interval(sa), "ci_b": _interval(sb),
                        "n_a": sa.n if sa else 0, "n_b": sb.n if sb else 0}
    ci_a, ci_b = weighted_interval(list(summaries["a"].values())), weighted_interval(list(summaries["b"].values()))
    weighted = {"a": a.weighted_score, "b": b.weighted_score, "delta": _delta(a.weighted_score, b.weighted_score),
                "ci_a": list(ci_a) if ci_a else None, "ci_b": list(ci_b) if ci_b else None}
    return scores, weighted


def _item_scores(a: Run, b: Run, item_ids: set[str]) -> dict[tuple[str, int], dict[str, dict]]:
    table: dict[tuple[str, int], dict[str, dict]] = {}
    rows = Score.objects.filter(run__in=[a, b], item_id__in=item_ids).values_list(
        "run_id", "item_id", "repeat", "scorer_name", "value")
    for run_id, item_id, repeat, scorer, value in rows:
        side = "a" if run_id == a.pk else "b"
        cell = table.setdefault((item_id, repeat or 0), {}).setdefault(scorer, {"a": None, "b": None})
        cell[side] = value
        if a.pk == b.pk:
            cell["a"] = cell["b"] = value
    return table


def paired_significance(a: Run, b: Run) -> dict | None:
    """The paired test of b against a by item (two-sided), for runs of one experiment; None otherwise."""
    if a.experiment_id != b.experiment_id:
        return None
    scoring = a.experiment.spec.scoring
    result = runs_compare(a=a.pk, b=b.pk, specs=scoring)
    return {**result.as_dict(), "alpha": scoring.alpha, "significant": result.significant(scoring.alpha)}


def run_compare(*, user, run_a_id, run_b_id, offset: int = 0, limit: int = 100) -> dict:
    """Compare run a with run b (either may belong to any experiment the user can see); items are paged.

    Endpoint ids of a run the user does not own (a guest's view) are None.
    """
    a, b = run_visible(user=user, run_id=run_a_id), run_visible(user=user, run_id=run_b_id)
    hidden = {side: endpoints_hidden(viewer=user, owner_id=run.experiment.project.owner_id)
              for side, run in (("a", a), ("b", b))}
    changes = diff_endpoints_masked(config_diff(a.config, b.config),
                                    sides=tuple(side for side, hide in hidden.items() if hide))
    for change in changes.values():
        texts = [v for v in (change["a"], change["b"]) if isinstance(v, str)]
        if texts and any("\n" in v for v in texts):
            change["diff"] = text_diff(*(v if isinstance(v, str) else "" for v in (change["a"], change["b"])))
    outputs_a, outputs_b = run_final_outputs(run=a), run_final_outputs(run=b)
    keys = sorted(set(outputs_a) | set(outputs_b))
    page = keys[offset : offset + limit]
    item_scores = _item_scores(a, b, {item_id for item_id, _ in page})
    items = []
    for key in page:
        out_a, out_b = outputs_a.get(key), outputs_b.get(key)
        items.append({"item_id": key[0], "repeat": key[1], "a": out_a, "b": out_b,
                      "same": out_a == out_b, "diff": text_diff(out_a, out_b), "scores": item_scores.get(key, {})})
    scores, weighted = _score_table(a, b)
    result = {
        "runs": {"a": _run_info(a, hidden=hidden["a"]), "b": _run_info(b, hidden=hidden["b"])},
        "config_diff": changes,
        # How many config paths are equal: a reader sees the diff is small, not that the runs are tiny.
        "config_same": len(set(flatten(a.config)) | set(flatten(b.config))) - len(changes),
        "scores": scores,
        "weighted_score": weighted,
        "significance": paired_significance(a, b),
        "totals": {name: {"a": _number(getattr(a, name)), "b": _number(getattr(b, name))} for name in TOTAL_FIELDS},
        "items_total": len(keys),
        "offset": offset,
        "limit": limit,
        "items": items,
    }
    secrets = owner_secrets(owner_id=a.experiment.project.owner_id)
    if b.experiment.project.owner_id != a.experiment.project.owner_id:
        secrets += owner_secrets(owner_id=b.experiment.project.owner_id)
    return scrub(result, secrets)
