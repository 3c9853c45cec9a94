"""enqueue_on_commit: a task by dotted path starts only once the write that asked for it is committed."""

import pytest
from django.db import transaction

from apps.core.queue import enqueue_on_commit


@pytest.fixture
def queued(monkeypatch):
    sent: list[tuple] = []
    monkeypatch.setattr("apps.core.queue.async_task", lambda *args, **kwargs: sent.append((args, kwargs)))
    return sent


@pytest.mark.django_db
def test_a_task_is_sent_with_its_arguments_after_the_transaction_commits(queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit("apps.runs.tasks.experiment_rescore", "abc", task_name="rescore abc")
        assert queued == []
    assert queued == [(("apps.runs.tasks.experiment_rescore", "abc"), {"task_name": "rescore abc"})]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_sends_no_task(queued):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit("apps.runs.tasks.experiment_rescore", "abc")
        raise RuntimeError("the write failed")
    assert queued == []
