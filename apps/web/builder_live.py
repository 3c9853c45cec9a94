"""The builder's live helpers: the count of combinations a grid sweep would plan, and a stage's model list."""

from __future__ import annotations

from django.core.cache import cache

from apps.core.errors import InvalidInput
from apps.endpoints.probe import endpoint_probe
from apps.experiments.services import experiment_validate
from apps.runs.services.space_count import SpaceCount, space_count
from apps.web.builder import Draft, draft_data


def draft_space_count(draft: Draft, *, user) -> tuple[SpaceCount | None, list[str]]:
    """What a grid sweep of the draft's space would plan, or the problems that stop it from planning."""
    data = draft_data(draft)
    space, repeats = data["parameter_space"], data.get("repeats", 1)
    try:
        fields = experiment_validate(user=user, data=data)
    except InvalidInput as exc:
        problems = [f"{_axis_label(path)}: {message}" for path, messages in exc.errors.items()
                    if path.startswith("parameter_space") or path == "repeats" for message in messages]
        if problems:
            return None, problems
    else:
        space, repeats = fields["parameter_space"], fields["repeats"]
    try:
        return space_count(parameter_space=space, items=len(draft.samples), repeats=repeats,
                           stages=len(draft.stage)), []
    except InvalidInput as exc:
        return None, [message for messages in exc.errors.values() for message in messages]


def _axis_label(path: str) -> str:
    head, _, rest = path.removeprefix("parameter_space").lstrip(".").partition(".")
    if path == "repeats":
        return "Repeats"
    if not head.isdigit():
        return "Parameter space"
    return f"Axis {int(head) + 1}" + (f" {rest}" if rest else "")


def count_text(count: SpaceCount) -> str:
    """“3 × 2 = 6 combinations × 2 repeats × 10 items = 120 calls per stage”, as the page shows it."""
    sizes = [str(size) for size in count.axis_sizes]
    combos = f"{count.configs:,} combination{'s' if count.configs != 1 else ''}"
    text = f"{' × '.join(sizes)} = {combos}" if len(sizes) > 1 else combos
    if not sizes:
        text += " (the base configuration)"
    text += (f" × {count.repeats} repeat{'s' if count.repeats != 1 else ''} × {count.items:,} item"
             f"{'s' if count.items != 1 else ''} = {count.calls_per_stage:,} calls")
    if count.stages > 1:
        return f"{text} per stage, {count.calls:,} in all ({count.stages} stages)"
    return text


MODELS_CACHE_S = 60


def endpoint_models(endpoint) -> tuple[list[str], str]:
    """(model names, a note when there are none) from the endpoint's model list, as its connection test reads it.

    Cached for a minute per endpoint version, so a page with several stages asks the server once.
    """
    key = f"builder-models:{endpoint.pk}:{endpoint.updated_at.timestamp()}"
    found = cache.get(key)
    if found is None:
        result = endpoint_probe(endpoint=endpoint)
        note = "" if result.ok else f"Could not list the models ({result.detail}); type the model name."
        if result.ok and not result.models:
            note = "The endpoint lists no models; type the model name."
        found = (result.models, note)
        cache.set(key, found, MODELS_CACHE_S if result.ok else MODELS_CACHE_S // 6)
    return found
