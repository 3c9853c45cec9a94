"""Retroactive re-scoring benchmark: re-score N stored outputs and count generation calls (must be 0).

Usage: .venv/bin/python bench/rescore.py [--outputs 1000] [--with-judge]

It creates a throwaway SQLite database under a temp DATA_DIR, runs one sweep against the built-in
fake LLM server to store N outputs (N/10 runs × 10 items), then changes the experiment's scorers
and re-scores every stored output in-process with the same code the worker's task runs. The
generation server counts every request it receives during the re-score (generation calls). With
--with-judge an LLM judge on a second fake server is added; its calls go through the response
cache, so they are paid once (a second re-score makes none). The last line printed is one JSON object with the
keys `outputs`, `seconds`, `generation_calls` (plus `judge_calls`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JUDGE_MARK = "Judge this answer."


def setup_django(data_dir: str) -> None:
    os.environ.update(DATA_DIR=data_dir, DJANGO_SETTINGS_MODULE="promptlooper.settings", LOG_LEVEL="WARNING")
    for var in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(var, None)
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def build(outputs: int, base_url: str):
    from apps.accounts.models import User
    from apps.endpoints.models import Endpoint
    from apps.experiments.services import experiment_create
    from apps.projects.models import Project

    user = User.objects.create_superuser(username="bench", password="bench-password-123")
    endpoint = Endpoint.objects.create(owner=user, label="fake", base_url=base_url, max_concurrency=32)
    runs = max(1, outputs // 10)
    items = [{"id": f"i{n}", "input": f"question {n} about Paris", "reference": f"answer {n}"} for n in range(10)]
    stage = {"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat",
             "prompt_template": "{{ input }}", "params": {"temperature": 0.5}}
    experiment = experiment_create(user=user, project=Project.objects.create(owner=user, name="bench"), data={
        "name": "rescore", "sample_data": items, "pipeline_stages": [stage],
        "scoring_config": {"scorers": [{"type": "keyword", "options": {"keywords": ["Paris"]}}]},
        "parameter_space": [{"path": "stages.0.params.seed", "values": list(range(runs))}],
    })
    return user, endpoint, experiment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outputs", type=int, default=1000)
    parser.add_argument("--with-judge", action="store_true")
    args = parser.parse_args()

    setup_django(tempfile.mkdtemp(prefix="pl-bench-rescore-"))
    from unittest import mock

    from apps.experiments.services import experiment_update
    from apps.fakellm.server import FakeLLMServer
    from apps.runs.driver import sweep_drive
    from apps.runs.models import Score, StageResult
    from apps.runs.rescoring import experiment_rescore
    from apps.runs.services.sweeps import sweep_start

    with FakeLLMServer() as server, FakeLLMServer() as judge_server, \
            mock.patch("apps.runs.services.sweeps.async_task"), mock.patch("apps.runs.services.scoring.async_task"):
        user, endpoint, experiment = build(args.outputs, server.base_url)
        sweep, _ = sweep_start(user=user, experiment=experiment, kind="grid")
        sweep_drive(str(sweep.pk))
        stored = StageResult.objects.filter(run__experiment=experiment, error="").count()
        print(f"stored outputs: {stored}")

        scorers = [
            {"type": "keyword", "weight": 2, "options": {"keywords": ["Paris", "question"], "mode": "all"}},
            {"type": "length", "weight": 1, "options": {"unit": "words", "min": 3, "max": 40}},
            {"type": "format", "weight": 1, "options": {"kind": "regex", "pattern": r"#[0-9a-f]{8}"}},
        ]
        if args.with_judge:
            from apps.endpoints.models import Endpoint

            judge = Endpoint.objects.create(owner=user, label="judge", base_url=judge_server.base_url,
                                            max_concurrency=32)
            scorers.append({"type": "llm_judge", "name": "judge", "weight": 1, "options": {
                "endpoint": str(judge.pk), "model": "fake-chat",
                "prompt": JUDGE_MARK + "\n{{ output }}\nREPLY: SCORE: 7"}})
        experiment_update(user=user, experiment=experiment, data={"scoring_config": {"scorers": scorers}},
                          partial=True)
        server.reset_stats()
        started = time.perf_counter()
        experiment_rescore(str(experiment.pk))
        seconds = time.perf_counter() - started
        generation_calls = server.stats["chat"] + server.stats["embeddings"]
        judge_calls = judge_server.stats["chat"]
        scores = Score.objects.filter(run__experiment=experiment).count()

    print(f"re-scored {stored} outputs with {len(scorers)} scorers ({scores} scores) in {seconds:.2f}s; "
          f"generation calls: {generation_calls}; judge calls: {judge_calls}")
    print(json.dumps({"outputs": stored, "seconds": round(seconds, 3), "generation_calls": generation_calls,
                      "judge_calls": judge_calls}))


if __name__ == "__main__":
    main()
