"""Seed a new admin's workspace: the default endpoint from the environment and a demo project.

The demo experiment sweeps the fake server's demo models (see ``apps.fakellm.demo``): two system
prompts × three temperatures × two models over twelve customer messages, scored by the rubric's
keywords and by length. The checklist prompt at a low temperature on ``demo-pro`` wins, clear of
the worst run's interval, so pressing Start shows the leaderboard sort itself.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from apps.accounts.models import User
from apps.endpoints.services import endpoint_create
from apps.experiments.services import experiment_create
from apps.projects.services import project_create

logger = logging.getLogger(__name__)

# The demo models earn one keyword per rubric point they cover (apps.fakellm.demo.RUBRIC_KEYWORDS).
RUBRIC_KEYWORDS = ["thank", "sorry", "ticket", "24 hours", "reply"]
PLAIN_PROMPT = "You are a friendly support agent."
CHECKLIST_PROMPT = (
    "You are a support agent. Be concise: thank the customer, apologise, give a ticket number, "
    "promise an answer within 24 hours and invite them to reply."
)
# Customer messages avoid the rubric keywords, so only a reply can earn them.
DEMO_MESSAGES = [
    ("refund", "I was charged twice for my order #1042. Can I get my money back?",
     "the duplicate charge on order #1042 and a refund within 5 days"),
    ("password", "How do I reset my password? The email never arrives.",
     "a manual password reset and a look at the spam folder"),
    ("shipping", "My parcel has been stuck in transit for a week.",
     "the tracking status and a carrier investigation"),
    ("damaged", "The mug I ordered arrived in pieces.", "a free replacement mug sent by express post"),
    ("cancel", "Please cancel my subscription before the next billing date.",
     "the cancellation before the next billing date"),
    ("invoice", "I need an invoice with my company name for last month.",
     "a corrected invoice with the company name"),
    ("address", "Can I change the delivery address on an order I placed an hour ago?",
     "the new delivery address before dispatch"),
    ("logout", "The app logs me out every few minutes on my phone.",
     "the app version and a fix for the session timeout"),
    ("discount", "My discount code SPRING20 says it has expired, but it should run until Friday.",
     "the SPRING20 code honoured until Friday"),
    ("missing", "One item was missing from my box of groceries.",
     "the missing item refunded or sent with the next delivery"),
    ("warranty", "My headphones stopped charging after two months. Are they under warranty?",
     "a free repair or replacement under warranty"),
    ("delete", "Please delete my account and all my data.", "account deletion and data removal within 30 days"),
]
DEMO_ITEMS = [
    {
        "id": item_id,
        "input": message,
        "reference": f"Thank the customer, say sorry, confirm {facts}, give a ticket number, "
                     "promise an answer within 24 hours and invite a reply.",
    }
    for item_id, message, facts in DEMO_MESSAGES
]


def demo_experiment(*, endpoint_id: str) -> dict:
    """The demo experiment's data, as the REST API would receive it."""
    return {
        "name": "Which wording, temperature and model?",
        "description": "One stage answers each customer message. The sweep tries two system prompts, three "
                       "temperatures and two models; press Start and watch the leaderboard sort itself.",
        "sample_data": DEMO_ITEMS,
        "pipeline_stages": [
            {
                "name": "reply",
                "endpoint": endpoint_id,
                "model": "demo-mini",
                "system_prompt": PLAIN_PROMPT,
                "prompt_template": "Customer message: {{ input }}\nWrite a reply.",
                "params": {"temperature": 0.6, "max_tokens": 200},
            },
        ],
        "scoring_config": {
            "scorers": [
                {"type": "keyword", "weight": 1, "options": {"keywords": RUBRIC_KEYWORDS, "mode": "all"}},
                {"type": "length", "weight": 0.5, "options": {"unit": "words", "min": 20, "max": 70}},
            ]
        },
        "parameter_space": [
            {"path": "stages.0.system_prompt", "values": [PLAIN_PROMPT, CHECKLIST_PROMPT]},
            {"path": "stages.0.params.temperature", "min": 0.2, "max": 1.0, "step": 0.4},
            {"path": "stages.0.model", "values": ["demo-mini", "demo-pro"]},
        ],
        "repeats": 1,
    }


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
            description="A sweep against the built-in fake LLM server's demo models. Needs no API key.",
        )
        experiment_create(user=user, project=project, data=demo_experiment(endpoint_id=str(endpoint.pk)))
    logger.info("Seeded the demo project for %s", user.username)
