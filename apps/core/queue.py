"""Enqueue a django-q2 task by dotted path once the current transaction commits.

Services name tasks by path, so they import nothing from the app that runs them, and a rolled-back
write never starts work (outside a transaction the task is queued at once).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_q.tasks import async_task


def enqueue_on_commit(task: str, *args: Any, **kwargs: Any) -> None:
    """Queue `task` (a dotted path) with these arguments after commit; kwargs go to async_task."""
    transaction.on_commit(lambda: async_task(task, *args, **kwargs))
