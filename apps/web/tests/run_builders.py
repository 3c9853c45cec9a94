"""Builders for the run detail and rating tests: runs with stage results, scores and summaries, in the ORM."""

from __future__ import annotations

from apps.endpoints.models import Endpoint
from apps.experiments.models import Experiment
from apps.projects.models import Project
from apps.runs.models import Run, Score, ScoreSummary, StageResult

HUMAN = {"type": "human", "name": "human", "weight": 1, "options": {"scale": "both"}}
KEYWORD = {"type": "keyword", "name": "keyword", "weight": 1, "options": {"keywords": ["refund"]}}


def make_endpoint(owner, label: str = "Local fake") -> Endpoint:
    return Endpoint.objects.create(owner=owner, label=label, base_url="http://127.0.0.1:9/v1")


def items(count: int) -> list[dict]:
    return [{"id": f"i{n}", "input": f"Email number {n} asks for a refund", "reference": f"Refund reply {n}"}
            for n in range(count)]


def make_rating_experiment(project: Project, *, n_items: int = 2, scorers=(KEYWORD, HUMAN),
                           name: str = "Tone check") -> Experiment:
    return Experiment.objects.create(project=project, name=name, sample_data=items(n_items),
                                     scoring_config={"scorers": list(scorers)})


def make_output_run(experiment: Experiment, *, endpoint: Endpoint | None = None, n_items: int = 2, repeats: int = 1,
                    stages: int = 2, status=Run.Status.COMPLETED, position: int = 0, point=None,
                    fail_item: str | None = None) -> Run:
    """A run whose every item × repeat × stage has a result, with keyword scores and their summary."""
    endpoint_id = str(endpoint.pk) if endpoint else "5f3c1a2b-0000-4000-8000-000000000001"
    config = {"stages": [{"name": f"stage{s}", "endpoint": endpoint_id, "model": "fake-chat",
                          "system_prompt": f"You are helper {s}.", "prompt_template": "Reply to: {{ input }}",
                          "params": {"temperature": 0.2}} for s in range(stages)]}
    run = Run.objects.create(
        experiment=experiment, config=config, point=point or {"stages.0.params.temperature": 0.2},
        config_hash=f"{Run.objects.count():064d}", status=status, position=position, weighted_score=0.5,
        calls=n_items * repeats * stages, tokens_in=120, tokens_out=60, cost_estimate="0.0042",
        error=f"endpoint {endpoint_id} is not available" if fail_item else "",
    )
    results, scores = [], []
    for n in range(n_items):
        item_id = f"i{n}"
        for repeat in range(repeats):
            for s in range(stages):
                failed = item_id == fail_item and s == stages - 1
                results.append(StageResult(
                    run=run, item_id=item_id, repeat=repeat, stage_index=s, stage_name=f"stage{s}",
                    prompt_sent=[{"role": "system", "content": f"You are helper {s}."},
                                 {"role": "user", "content": f"Reply to: Email number {n} asks for a refund"}],
                    response_raw="" if failed else f"Answer {item_id}/{repeat}/{s}: we will refund you",
                    model_used="fake-chat", tokens_in=30 + s, tokens_out=15 + s, latency_ms=200 + n,
                    cached=(s == 0 and n == 0),
                    error=f"endpoint {endpoint_id} timed out after 30 s" if failed else "",
                ))
            if item_id != fail_item:
                scores.append(Score(run=run, scorer_name="keyword", item_id=item_id, repeat=repeat, value=1.0,
                                    metadata={"mode": "all", "found": ["refund"], "missing": []}))
    StageResult.objects.bulk_create(results)
    Score.objects.bulk_create(scores)
    ScoreSummary.objects.create(run=run, scorer_name="keyword", weight=1.0, mean=1.0, std=0.0, n=len(scores),
                                ci_low=0.8, ci_high=1.0)
    return run
