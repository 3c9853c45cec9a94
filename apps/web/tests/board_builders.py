"""Builders for the leaderboard and chart tests: an experiment with scorers and axes, and scored runs."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.endpoints.models import Endpoint
from apps.experiments.models import Experiment
from apps.experiments.services import experiment_create
from apps.runs.models import Run, ScoreSummary

TEMPERATURE = "stages.0.params.temperature"
MODEL = "stages.0.model"


def scored_experiment(owner, project) -> Experiment:
    """The owner's experiment: one stage, two scorers (kw, short) and two axes (temperature, model)."""
    endpoint = Endpoint.objects.create(owner=owner, label="fake", base_url="http://127.0.0.1:9/v1")
    return experiment_create(user=owner, project=project, data={
        "name": "Tone check",
        "sample_data": [{"id": f"i{n}", "input": f"document {n}", "reference": "document"} for n in range(3)],
        "pipeline_stages": [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat",
                             "prompt_template": "Answer: {{ input }}", "params": {"max_tokens": 32}}],
        "parameter_space": [{"path": TEMPERATURE, "values": [0.1, 0.5, 0.9]},
                            {"path": MODEL, "values": ["fake-chat", "fake-large"]}],
        "scoring_config": {"scorers": [
            {"type": "keyword", "name": "kw", "weight": 1, "options": {"keywords": ["document"]}},
            {"type": "length", "name": "short", "weight": 1, "options": {"max": 200}},
        ]},
    })


def scored_run(experiment: Experiment, score: float, *, ci: float = 0.05, kw: float | None = None,
               short: float | None = None, temperature: float = 0.5, model: str = "fake-chat",
               status: str = Run.Status.COMPLETED, approval: str = "", finished: int = 0) -> Run:
    """A finished run with its two scorers' summaries; its weighted interval is score ± ci."""
    stages = experiment.pipeline_stages
    run = Run.objects.create(
        experiment=experiment, config={"stages": stages}, config_hash=f"{Run.objects.count():064d}",
        point={TEMPERATURE: temperature, MODEL: model}, status=status, weighted_score=score, approval=approval,
        completed_at=timezone.now() + timedelta(seconds=finished),
    )
    for name, mean in (("kw", score if kw is None else kw), ("short", score if short is None else short)):
        ScoreSummary.objects.create(run=run, scorer_name=name, mean=mean, std=0.1, n=6, weight=1,
                                    ci_low=max(0.0, score - ci), ci_high=min(1.0, score + ci))
    return run
