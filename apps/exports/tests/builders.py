"""Small ORM builders: an experiment with a sweep of scored runs, no LLM calls needed."""

from __future__ import annotations

from apps.endpoints.models import Endpoint
from apps.engine.config_paths import apply_point
from apps.experiments.models import Experiment
from apps.projects.models import Project
from apps.runs.models import Run, Score, ScoreSummary, StageResult, Sweep

CANARY_KEY = "canary-secret-5f1e9a7c3b2d"
ITEMS = [{"id": "a", "input": "The cat sat.", "reference": "cat"},
         {"id": "b", "input": "It rained | all day.", "reference": "rain"}]
SCORERS = [{"type": "llm_judge", "name": "quality", "weight": 2, "options": {}},
           {"type": "length", "name": "length", "weight": 1, "options": {}}]


def make_endpoint(owner, *, label="prod-llm") -> Endpoint:
    endpoint = Endpoint(owner=owner, label=label, base_url="https://bob:hunter22@llm.example.test/v1?api_key=zzz")
    endpoint.set_api_key(CANARY_KEY)
    endpoint.save()
    return endpoint


def two_stages(endpoint) -> list[dict]:
    return [
        {"name": "extract", "endpoint": str(endpoint.pk), "model": "small-model",
         "system_prompt": "You extract facts.\nX=1\nNever add $HOME or \"quotes\".",
         "prompt_template": "Extract from: {{ input }}", "params": {"temperature": 0.5, "max_tokens": 64}},
        {"name": "summarize", "endpoint": str(endpoint.pk), "model": "small-model",
         "prompt_template": "Summarize: {{ previous }}", "params": {"temperature": 0.2, "stop": ["\n\n"]}},
    ]


def make_experiment(owner, endpoint, *, stages=None, name="Fact extraction v2") -> Experiment:
    project = Project.objects.create(owner=owner, name=f"Project of {owner.username}")
    return Experiment.objects.create(
        project=project, name=name, sample_data=ITEMS, pipeline_stages=stages or two_stages(endpoint),
        scoring_config={"scorers": SCORERS}, repeats=1,
        parameter_space=[{"path": "stages.0.model", "values": ["small-model", "big-model"]},
                         {"path": "stages.0.params.temperature", "min": 0.1, "max": 0.5, "step": 0.4}],
    )


def make_sweep(experiment) -> Sweep:
    return Sweep.objects.create(experiment=experiment, kind=Sweep.Kind.GRID, status=Sweep.Status.COMPLETED,
                                runs_total=4, runs_done=4)


def make_endpoint_axis_sweep(owner) -> tuple[Sweep, list[Endpoint]]:
    """A sweep over two of `owner`'s endpoints: its experiment's stage 0 endpoint is the only axis."""
    endpoints = [Endpoint.objects.create(owner=owner, label=f"gpu-{name}", base_url=f"http://gpu-{name}.example.test/v1")
                 for name in ("one", "two")]
    experiment = make_experiment(owner, endpoints[0])
    experiment.parameter_space = [{"path": "stages.0.endpoint", "values": [str(e.pk) for e in endpoints]}]
    experiment.save()
    sweep = make_sweep(experiment)
    sweep.parameter_space = experiment.parameter_space
    sweep.save()
    return sweep, endpoints


def make_run(experiment, *, sweep=None, position=0, point=None, score=0.5, status=Run.Status.COMPLETED,
             approval="", outputs=None) -> Run:
    """A finished run with stage results, per-item scores and score summaries around `score`."""
    point = point or {}
    config = apply_point({"stages": experiment.pipeline_stages}, point)
    run = Run.objects.create(
        experiment=experiment, sweep=sweep, position=position, config=config, point=point,
        config_hash=f"{Run.objects.count():064d}", status=status, approval=approval, weighted_score=score,
        calls=4, cache_hits=1, tokens_in=100 + position, tokens_out=50, cost_estimate="0.012500", duration_ms=900,
    )
    if status not in (Run.Status.COMPLETED, Run.Status.CACHED):
        return run
    last = len(config["stages"]) - 1
    for item in ITEMS:
        for index, stage in enumerate(config["stages"]):
            text = (outputs or {}).get(item["id"], f"output of {item['id']}\nline two at {score}")
            StageResult.objects.create(run=run, item_id=item["id"], stage_index=index, stage_name=stage["name"],
                                       model_used=stage["model"], response_raw=text if index == last else "mid",
                                       tokens_in=25, tokens_out=12, latency_ms=100 + 10 * index)
        Score.objects.create(run=run, scorer_name="quality", item_id=item["id"], repeat=0, value=score)
        Score.objects.create(run=run, scorer_name="length", item_id=item["id"], repeat=0, value=score)
    for name, weight in (("quality", 2.0), ("length", 1.0)):
        ScoreSummary.objects.create(run=run, scorer_name=name, weight=weight, mean=score, std=0.05, n=2,
                                    ci_low=round(score - 0.04, 6), ci_high=round(score + 0.04, 6))
    return run
