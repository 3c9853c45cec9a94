"""Known rows for the analytics tests: sweep calls (StageResult under a run whose config names the endpoint per
stage) and gateway requests, at chosen times."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from apps.deployments.models import Deployment, GatewayRequest
from apps.endpoints.models import Endpoint
from apps.experiments.models import Experiment
from apps.projects.models import Project
from apps.runs.models import Run, StageResult

PRICES = {"gpt-small": {"input": 1.0, "output": 2.0}, "gpt-large": {"input": 10.0, "output": 30.0}}


def make_endpoint(owner, label: str = "Main", prices: dict | None = None) -> Endpoint:
    return Endpoint.objects.create(owner=owner, label=label, base_url="http://127.0.0.1:9/v1",
                                   model_prices=PRICES if prices is None else prices)


def make_run(owner, stages: list[tuple[Endpoint, str]]) -> Run:
    """A run whose config has one stage per (endpoint, model)."""
    project, _ = Project.objects.get_or_create(owner=owner, name="Analytics")
    experiment = Experiment.objects.create(project=project, name=f"exp {Experiment.objects.count()}",
                                           pipeline_stages=[])
    config = {"stages": [{"name": f"s{i}", "endpoint": str(endpoint.pk), "model": model,
                          "prompt_template": "{{ input }}", "params": {}}
                         for i, (endpoint, model) in enumerate(stages)]}
    return Run.objects.create(experiment=experiment, config=config, config_hash=f"{Run.objects.count():064d}",
                              status=Run.Status.COMPLETED)


def add_calls(run: Run, *, stage: int = 0, latencies: list[int], errors: int = 0, cached: int = 0,
              tokens: tuple[int, int] = (100, 50), at: datetime | None = None) -> None:
    """Successful calls with these latencies, then `errors` failed ones and `cached` cache hits, at `at`."""
    model = run.config["stages"][stage]["model"]
    start = StageResult.objects.filter(run=run).count()
    rows = []
    kinds = [("ok", latency) for latency in latencies] + [("error", 5)] * errors + [("cached", 9999)] * cached
    for n, (kind, latency) in enumerate(kinds):
        rows.append(StageResult(run=run, item_id=f"i{start + n}", stage_index=stage, model_used=model,
                                tokens_in=tokens[0], tokens_out=tokens[1], latency_ms=latency,
                                cached=kind == "cached", error="HTTP 500 from upstream" if kind == "error" else "",
                                response_raw="" if kind == "error" else "an answer"))
    created = StageResult.objects.bulk_create(rows)
    if at is not None:
        StageResult.objects.filter(pk__in=[r.pk for r in created]).update(created_at=at)


def make_deployment(owner, endpoint: Endpoint, model: str = "gpt-small", name: str = "support") -> Deployment:
    return Deployment.objects.create(owner=owner, name=name, endpoint=endpoint, model=model)


def add_requests(deployment: Deployment, *, latencies: list[int], failed: int = 0, cost: str = "0.001",
                 model: str | None = None, at: datetime | None = None, endpoint: Endpoint | None = None) -> None:
    """Successful gateway requests with these latencies (each costing `cost`), then `failed` 502s."""
    when = at or timezone.now() - timedelta(minutes=5)
    rows = [GatewayRequest(deployment=deployment, endpoint=endpoint or deployment.endpoint,
                           model=model or deployment.model, status_code=200, success=True, latency_ms=latency,
                           tokens_in=20, tokens_out=10, cost_usd=Decimal(cost), created_at=when)
            for latency in latencies]
    rows += [GatewayRequest(deployment=deployment, endpoint=endpoint or deployment.endpoint,
                            model=model or deployment.model, status_code=502, success=False, error="upstream 500",
                            latency_ms=3, created_at=when) for _ in range(failed)]
    GatewayRequest.objects.bulk_create(rows)
