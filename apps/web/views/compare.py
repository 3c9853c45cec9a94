"""Compare two runs: parameter, prompt and per-item output diffs, and the scores side by side."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from apps.experiments.secrets import point_endpoints_masked
from apps.experiments.selectors import experiment_get
from apps.exports.compare import run_compare as compare_runs
from apps.exports.compare import run_visible
from apps.runs.leaderboard import ranked_runs
from apps.runs.masking import endpoints_hidden
from apps.web.access import guest_readable
from apps.web.diffing import word_diff
from apps.web.forms_compare import CompareForm, run_pair
from apps.web.rendering import paginate, render_page
from apps.web.submit import form_status

ITEMS_PER_PAGE = 10
PICK_LIMIT = 100
PROMPT_PATH = re.compile(r"^stages\.(\d+)\.(system_prompt|prompt_template)$")
PROMPT_FIELDS = {"system_prompt": "System prompt", "prompt_template": "Prompt template"}
TOTAL_LABELS = {"tokens_in": "Tokens in", "tokens_out": "Tokens out", "cost_estimate": "Cost (USD)",
                "duration_ms": "Duration (ms)", "mean_latency_ms": "Mean latency (ms)", "calls": "LLM calls",
                "cache_hits": "Cache hits"}


@guest_readable
@require_GET
def run_compare(request: HttpRequest) -> HttpResponse:
    pair = run_pair(request.GET)
    form = CompareForm(pair)
    if form.is_valid():
        return _comparison(request, form.cleaned_data["a"], form.cleaned_data["b"])
    return _picker(request, form if any(pair.values()) else CompareForm())


def _picker(request: HttpRequest, form: CompareForm) -> HttpResponse:
    """Fewer than two runs: choose them from one experiment's ranked runs, or paste their ids."""
    experiment, chosen = None, form.cleaned_data.get("a") if form.is_bound else None
    if request.GET.get("experiment"):
        experiment = experiment_get(user=request.user, experiment_id=request.GET["experiment"])
    elif chosen:
        experiment = run_visible(user=request.user, run_id=chosen).experiment
    context = {"form": form, "experiment": experiment, "choose": None}
    if experiment is not None:
        # The errors show on the selects; the id form below starts from the same values, quietly.
        context["choose"] = CompareForm(form.data if form.is_bound else None, auto_id="choose_%s",
                                       choices=_choices(request, experiment))
        context["form"] = CompareForm(initial=form.data if form.is_bound else None)
    return render_page(request, "web/compare.html", context, partials=("compare-picker",),
                       status=form_status(context["choose"] or form))


def _choices(request: HttpRequest, experiment) -> list[tuple[str, str]]:
    hidden = endpoints_hidden(viewer=request.user, owner_id=experiment.project.owner_id)
    choices = []
    for rank, run in enumerate(ranked_runs(experiment=experiment)[:PICK_LIMIT], start=1):
        point = point_endpoints_masked(run.point) if hidden else run.point
        settings = ", ".join(f"{path.rsplit('.', 1)[-1]}={value}" for path, value in (point or {}).items()
                             if value is not None)
        score = "–" if run.weighted_score is None else f"{run.weighted_score:.3f}"
        choices.append((str(run.pk), f"#{rank} · {score}{f' · {settings}' if settings else ''}"))
    return choices


def _comparison(request: HttpRequest, a, b) -> HttpResponse:
    def fetch(number: int) -> dict:
        return compare_runs(user=request.user, run_a_id=a, run_b_id=b,
                            offset=(number - 1) * ITEMS_PER_PAGE, limit=ITEMS_PER_PAGE)

    requested = request.GET.get("page", "1")
    result = fetch(int(requested) if requested.isdigit() and int(requested) > 0 else 1)
    page = paginate(request, range(result["items_total"]), per_page=ITEMS_PER_PAGE)
    if page.start_index() - 1 != result["offset"] and result["items_total"]:
        result = fetch(page.number)  # out of range: the nearest page, as every pager does
    context = {
        "result": result, "runs": result["runs"], "page": page,
        "query": urlencode({"a": a, "b": b}),
        "different_experiments": result["runs"]["a"]["experiment"] != result["runs"]["b"]["experiment"],
        "params": [{"path": path, "a": _shown(change["a"]), "b": _shown(change["b"])}
                   for path, change in result["config_diff"].items() if not PROMPT_PATH.match(path)],
        "prompts": _prompts(result["config_diff"]),
        "scorers": _overlay(result),
        "items": [_item(item, list(result["scores"])) for item in result["items"]],
        "scorer_names": list(result["scores"]),
        "totals": [{"label": TOTAL_LABELS.get(name, name), **pair} for name, pair in result["totals"].items()],
    }
    return render_page(request, "web/compare.html", context, partials=("compare-items",))


def _shown(value) -> str:
    if value is None:
        return "—"
    return value if isinstance(value, str) else json.dumps(value)


def _prompts(changes: dict[str, dict]) -> list[dict]:
    prompts = []
    for path, change in changes.items():
        match = PROMPT_PATH.match(path)
        if match:
            prompts.append({"stage": int(match[1]) + 1, "field": PROMPT_FIELDS[match[2]], "path": path,
                            "diff": word_diff(change["a"], change["b"])})
    return prompts


def _percent(value: float | None) -> float | None:
    return None if value is None else round(max(0.0, min(1.0, value)) * 100, 1)


def _bar(label: str, mean, ci, n=None) -> dict:
    return {"label": label, "mean": mean, "ci": ci, "n": n, "width": _percent(mean),
            "ci_low": _percent(ci[0]) if ci else None, "ci_high": _percent(ci[1]) if ci else None}


def _delta(delta: float | None) -> str:
    return "–" if delta is None else f"{delta:+.3f}"


def _overlay(result: dict) -> list[dict]:
    weighted = result["weighted_score"]
    rows = [{"name": "Weighted score", "delta": _delta(weighted["delta"]),
             "bars": [_bar("A", weighted["a"], weighted["ci_a"]), _bar("B", weighted["b"], weighted["ci_b"])]}]
    for name, entry in result["scores"].items():
        rows.append({"name": name, "delta": _delta(entry["delta"]),
                     "bars": [_bar("A", entry["mean_a"], entry["ci_a"], entry["n_a"]),
                              _bar("B", entry["mean_b"], entry["ci_b"], entry["n_b"])]})
    return rows


def _item(item: dict, scorers: list[str]) -> dict:
    cells = []
    for name in scorers:
        cell = item["scores"].get(name, {"a": None, "b": None})
        delta = None if cell["a"] is None or cell["b"] is None else round(cell["b"] - cell["a"], 6)
        cells.append({"a": cell["a"], "b": cell["b"], "delta": _delta(delta), "differs": cell["a"] != cell["b"]})
    return {**item, "words": word_diff(item["a"], item["b"]), "cells": cells}
