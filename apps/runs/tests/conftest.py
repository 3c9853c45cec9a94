import threading
import time

import pytest
from django.db import connection

from apps.endpoints.models import Endpoint
from apps.experiments.services import experiment_create
from apps.projects.models import Project


@pytest.fixture
def enqueued(monkeypatch):
    """Record driver tasks instead of sending them to a broker; tests drive sweeps explicitly."""
    calls: list[str] = []
    monkeypatch.setattr("apps.runs.services.sweeps.async_task", lambda func, sweep_id, **kw: calls.append(sweep_id))
    return calls


@pytest.fixture
def endpoint(owner, fake_llm):
    return Endpoint.objects.create(
        owner=owner, label="fake", base_url=fake_llm.base_url, max_concurrency=8,
        model_prices={"fake-chat": {"input": 1.0, "output": 2.0}, "fake-chat-large": {"input": 3.0, "output": 6.0}},
    )


@pytest.fixture
def project(owner):
    return Project.objects.create(owner=owner, name="Extraction")


@pytest.fixture
def worker(transactional_db, tmp_path, monkeypatch):
    """A stopped django-q2 worker process bound to the test database; call `.start()`."""
    from apps.runs.tests.worker import stopped_worker  # worker.py imports wait_until from this module

    yield from stopped_worker(tmp_path=tmp_path, monkeypatch=monkeypatch)


def items(count: int) -> list[dict]:
    return [{"id": f"i{n}", "input": f"document number {n} about topic {n % 3}", "reference": f"ref {n}"}
            for n in range(count)]


def two_stage(endpoint, *, model="fake-chat") -> list[dict]:
    return [
        {"name": "extract", "endpoint": str(endpoint.pk), "model": model,
         "system_prompt": "You extract facts.", "prompt_template": "Extract from: {{ input }}",
         "params": {"temperature": 0.5, "max_tokens": 64}},
        {"name": "summarize", "endpoint": str(endpoint.pk), "model": model,
         "prompt_template": "Summarize: {{ previous }} (source {{ id }})", "params": {"temperature": 0.2}},
    ]


@pytest.fixture
def make_experiment(owner, project, endpoint):
    def make(*, stages=None, n_items=5, space=None, repeats=1, **extra):
        data = {
            "name": "exp", "sample_data": items(n_items), "pipeline_stages": stages or two_stage(endpoint),
            "parameter_space": space if space is not None else [
                {"path": "stages.0.model", "values": ["fake-chat", "fake-chat-large"]},
                {"path": "stages.0.params.temperature", "min": 0.1, "max": 0.5, "step": 0.2},
            ],
            "repeats": repeats, **extra,
        }
        return experiment_create(user=owner, project=project, data=data)
    return make


def wait_until(predicate, *, timeout_s: float = 30.0, what: str = "condition"):
    """Poll a database condition with a deadline (for work done by another process or thread)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def race(*actions) -> list:
    """Run each action in its own thread and database connection, released together; their outcomes."""
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def target(index, action):
        try:
            Project.objects.exists()  # connect before the barrier, so all start from the same instant
            barrier.wait()
            outcomes[index] = action()
        except Exception as exc:  # noqa: BLE001  (the outcome is asserted by the test)
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a racer is stuck (deadlock?)"
    return outcomes
