"""Seed a new admin's workspace: the default endpoint from the environment and a demo project."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from apps.accounts.models import User
from apps.endpoints.services import endpoint_create
from apps.experiments.services import experiment_create
from apps.projects.services import project_create

logger = logging.getLogger(__name__)

DEMO_ITEMS = [
    {
        "id": "refund",
        "input": "I was charged twice for my order #1042. Can I get a refund?",
        "reference": "Apologise, confirm the duplicate charge on order #1042 and promise a refund within 5 days.",
    },
    {
        "id": "password",
        "input": "How do I reset my password? The email never arrives.",
        "reference": "Explain the reset link, suggest checking spam, and offer a manual reset.",
    },
    {
        "id": "shipping",
        "input": "My parcel has been stuck in transit for a week.",
        "reference": "Apologise, share the tracking status and offer to open a carrier investigation.",
    },
]


def demo_seed(*, user: User) -> None:
    """Create the default endpoint (DEFAULT_ENDPOINT_URL) and, with DEMO_PROJECT, a demo project."""
    if not settings.DEFAULT_ENDPOINT_URL:
        return
    with transaction.atomic():
        endpoint = endpoint_create(
            owner=user,
            label="Default endpoint",
            base_url=settings.DEFAULT_ENDPOINT_URL,
            api_key=settings.DEFAULT_ENDPOINT_KEY,
        )
        if not settings.DEMO_PROJECT:
            return
        project = project_create(
            owner=user,
            name="Demo: support replies",
            description="A two-stage pipeline against the built-in fake LLM server. Needs no API key.",
        )
        experiment_create(
            user=user,
            project=project,
            data={
                "name": "Draft then polish",
                "description": "Stage 1 drafts a reply; stage 2 tightens it. Sweeps model and temperature.",
                "sample_data": DEMO_ITEMS,
                "pipeline_stages": [
                    {
                        "name": "draft",
                        "endpoint": str(endpoint.pk),
                        "model": "fake-chat",
                        "system_prompt": "You are a friendly support agent.",
                        "prompt_template": "Customer message: {{ input }}\nWrite a reply.",
                        "params": {"temperature": 0.7, "max_tokens": 200},
                    },
                    {
                        "name": "polish",
                        "endpoint": str(endpoint.pk),
                        "model": "fake-chat",
                        "prompt_template": "Make this reply shorter and warmer:\n{{ previous }}",
                        "params": {"temperature": 0.2, "max_tokens": 120},
                    },
                ],
                "scoring_config": {
                    "scorers": [
                        {"type": "keyword", "weight": 1, "options": {"keywords": ["sorry", "refund"], "mode": "any"}},
                        {"type": "length", "weight": 0.5, "options": {"unit": "words", "min": 10, "max": 120}},
                    ]
                },
                "parameter_space": [
                    {"path": "stages.0.model", "values": ["fake-chat", "fake-chat-large"]},
                    {"path": "stages.0.params.temperature", "min": 0.2, "max": 1.0, "step": 0.4},
                ],
                "repeats": 1,
            },
        )
    logger.info("Seeded the demo project for %s", user.username)
