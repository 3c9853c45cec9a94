"""Forms of the live experiment view: start a sweep (and its dry run), redirect it, approve an agent, filter the
timeline.

Types and bounds as the REST serializers have them (apps/api/serializers/runs.py); the services check the rest,
the planners their own `options` (docs/planners.md).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms

from apps.activity.kinds import Kind
from apps.core.errors import ServiceError
from apps.engine.planners import PLANNERS, redirect_kinds
from apps.experiments.validation import MAX_BIGINT
from apps.runs.services.budget import OVER_BUDGET

MAX_N = 100_000
OVER_BUDGET_LABELS = {"pause": "Pause at the budget", "refuse": "Refuse to start if the estimate exceeds it"}
# Each planner's option fields: form field → its path in the sweep's `options` (the planner names errors by it).
PLANNER_OPTIONS: dict[str, dict[str, str]] = {
    "tpe": {"tpe_n_startup_trials": "n_startup_trials"},
    "halving": {"halving_eta": "eta", "halving_min_items": "min_items"},
    "prompt_search": {"prompt_search_endpoint": "proposer.endpoint", "prompt_search_model": "proposer.model",
                      "prompt_search_axis": "axis", "prompt_search_k": "k", "prompt_search_rounds": "rounds",
                      "prompt_search_patience": "patience"},
    "agent": {"agent_endpoint": "endpoint", "agent_model": "model", "agent_goal": "goal",
              "agent_max_steps": "max_steps", "agent_batch_max": "batch_max",
              "agent_approve_above_tokens": "approve_above_tokens"},
}
OPTION_ALIASES = {"prompt_search": {"proposer": "prompt_search_endpoint"}}  # "needs a proposer" → its endpoint


def _whole(label: str, help_text: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, help_text=help_text)


class SweepForm(forms.Form):
    type = forms.ChoiceField(label="Sweep type", choices=PLANNERS.choices(), initial="grid",
                             help_text="Grid: every combination. Random: n drawn combinations. Guided, TPE: "
                                       "n configurations, planned batch by batch from the scores. Halving: every "
                                       "combination on a few items, the best on more. Prompt search: an LLM "
                                       "rewrites a prompt. Agent: an LLM agent picks what to run.")
    n = forms.IntegerField(label="Configurations (n)", required=False, min_value=1, max_value=MAX_N,
                           help_text="Random and guided sweeps.")
    batch = forms.IntegerField(label="Batch size", required=False, min_value=1, max_value=256,
                               help_text="Guided sweeps: configurations planned per round (default 4).")
    seed = forms.IntegerField(label="Seed", required=False, min_value=-MAX_BIGINT - 1, max_value=MAX_BIGINT)
    repeats = forms.IntegerField(label="Repeats", required=False, min_value=1, max_value=100,
                                 help_text="Blank: the experiment's.")
    sample_ids = forms.CharField(label="Sample items", required=False,
                                 help_text="Ids separated by commas; blank: every item.")
    budget_tokens = forms.IntegerField(label="Token budget", required=False, min_value=0, max_value=MAX_BIGINT,
                                       help_text="Blank: the experiment's.")
    budget_usd = forms.DecimalField(label="Cost budget (USD)", required=False, min_value=Decimal(0),
                                    max_digits=12, decimal_places=4, help_text="Blank: the experiment's.")
    over_budget = forms.ChoiceField(label="Over the budget", required=False, initial="pause",
                                    choices=[(value, OVER_BUDGET_LABELS[value]) for value in OVER_BUDGET],
                                    help_text="When the estimate exceeds a budget: start and pause when the budget "
                                              "is reached, or refuse to start.")
    tpe_n_startup_trials = _whole("Random start (n_startup_trials)",
                                  "Random configurations before TPE takes over (default 10).")
    halving_eta = _whole("Promotion ratio (eta)", "The best 1/eta of each rung run on more items (2–100, default 3).")
    halving_min_items = _whole("Fewest items per rung (min_items)", "Default 2.")
    prompt_search_endpoint = forms.ChoiceField(label="Proposer endpoint", required=False,
                                               help_text="Who writes the prompt variants: one of your endpoints.")
    prompt_search_model = forms.CharField(label="Proposer model", required=False, max_length=200)
    prompt_search_axis = forms.ChoiceField(label="Prompt to rewrite (axis)", required=False)
    prompt_search_k = _whole("Variants per round (k)", "Default 4.")
    prompt_search_rounds = _whole("Rounds at most", "Default 5.")
    prompt_search_patience = _whole("Patience", "Rounds without a significant gain before stopping (default 2).")
    agent_endpoint = forms.ChoiceField(label="Agent endpoint", required=False,
                                       help_text="The agent's LLM: one of your endpoints.")
    agent_model = forms.CharField(label="Agent model", required=False, max_length=200)
    agent_goal = forms.CharField(label="Goal", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text="Blank: find the best weighted score cheaply.")
    agent_max_steps = _whole("Steps at most (max_steps)", "Tool calls the agent may make (default 20).")
    agent_batch_max = _whole("Configurations per batch (batch_max)", "Default 8.")
    agent_approve_above_tokens = _whole("Ask a person above (tokens)",
                                        "Before spending past this many tokens the sweep pauses for your approval.")

    def __init__(self, *args, endpoints: list[tuple[str, str]] = (), prompt_axes: list[tuple[str, str]] = (),
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("prompt_search_endpoint", "agent_endpoint"):
            self.fields[name].choices = [("", "Choose an endpoint"), *endpoints]
        self.fields["prompt_search_axis"].choices = list(prompt_axes)

    def option_groups(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(sweep type, its label, its option fields) for each type that has options, in registry order."""
        labels = dict(PLANNERS.choices())
        return [(kind, labels[kind], [self[name] for name in PLANNER_OPTIONS[kind]])
                for kind in PLANNERS if kind in PLANNER_OPTIONS]

    def base_fields_shown(self) -> list[forms.BoundField]:
        options = {name for names in PLANNER_OPTIONS.values() for name in names}
        return [field for field in self.visible_fields() if field.name not in options]

    def clean_sample_ids(self) -> list[str] | None:
        ids = [part.strip() for part in self.cleaned_data["sample_ids"].split(",") if part.strip()]
        return ids or None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("type")
        # Without JavaScript every type's options are posted: only the chosen type's count.
        for other, names in PLANNER_OPTIONS.items():
            if other != kind:
                for name in names:
                    self._errors.pop(name, None)
        if kind and PLANNERS.get(kind).needs_n and not data.get("n"):
            self.add_error("n", f"A {kind} sweep needs n, the number of configurations.")
        return data

    def planner_options(self) -> dict[str, Any]:
        """The chosen type's `options`, as REST takes them; a blank field leaves the planner's default."""
        kind = self.cleaned_data["type"]
        options: dict[str, Any] = {"proposer": {}} if kind == "prompt_search" else {}
        for name, path in PLANNER_OPTIONS.get(kind, {}).items():
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            head, _, tail = path.partition(".")
            if tail:
                options.setdefault(head, {})[tail] = value
            else:
                options[head] = value
        return options

    def option_errors_named(self, error: ServiceError) -> ServiceError:
        """`error` with each `options.<path>` key the chosen type's form field has renamed to that field."""
        kind = self.cleaned_data.get("type")
        fields = {path: name for name, path in PLANNER_OPTIONS.get(kind, {}).items()}
        fields.update(OPTION_ALIASES.get(kind, {}))
        renamed = {}
        for key, messages in error.errors.items():
            head, _, path = key.partition(".")
            renamed[fields[path] if head == "options" and path in fields else key] = messages
        error.errors = renamed
        return error

    def plan_options(self) -> dict[str, Any]:
        """The options sweep_dry_run and sweep_start share."""
        data = self.cleaned_data
        return {"kind": data["type"], "repeats": data["repeats"], "n": data["n"], "seed": data["seed"],
                "sample_ids": data["sample_ids"]}


class RedirectForm(forms.Form):
    parameter_space = forms.CharField(
        label="Remaining parameter space (JSON)", widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text='A list of axes, e.g. [{"path": "stages.0.params.temperature", "values": [0.2, 0.5]}].')
    type = forms.ChoiceField(label="Plan the remainder as", required=False,
                             choices=[("", "The sweep's own type"), *[(k, k.title()) for k in redirect_kinds()]])
    n = forms.IntegerField(label="Configurations (n)", required=False, min_value=1, max_value=MAX_N,
                           help_text="Random plans only.")
    seed = forms.IntegerField(label="Seed", required=False, min_value=-MAX_BIGINT - 1, max_value=MAX_BIGINT)

    def clean_parameter_space(self) -> list:
        try:
            space = json.loads(self.cleaned_data["parameter_space"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
        if not isinstance(space, list) or not all(isinstance(axis, dict) for axis in space):
            raise forms.ValidationError("Expected a list of axes, each an object.")
        return space


class ApproveForm(forms.Form):
    note = forms.CharField(label="Note for the agent", required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class TimelineFilterForm(forms.Form):
    kind = forms.ChoiceField(label="Event type", required=False,
                             choices=[("", "Every event"), *[(kind.value, kind.description) for kind in Kind]])
