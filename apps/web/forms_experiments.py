"""The experiment builder's forms: one per section row, all text; the experiment services validate.

Each row form is bound to its slice of the posted (or stored) fields, so the page re-renders exactly
what was sent, and the service's errors are added to the field they name (see builder.errors_route).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.urls import reverse_lazy

from apps.engine.params import DISTRIBUTIONS
from apps.engine.scorers import SCORERS
from apps.web.builder import Draft, RoutedErrors, axis_paths, stage_variables

# The live count of combinations follows every field it depends on (see web:experiment_space_count).
COUNT_ATTRS = {
    "hx-post": reverse_lazy("web:experiment_space_count"), "hx-trigger": "change, input changed delay:300ms",
    "hx-target": "#builder-space-count", "hx-swap": "outerHTML",
}


def _text(label: str, *, help_text: str = "", rows: int | None = None, count: bool = False, **attrs) -> forms.CharField:
    attrs = {**(COUNT_ATTRS if count else {}), **attrs}
    widget = forms.Textarea(attrs={"rows": rows, **attrs}) if rows else forms.TextInput(attrs=attrs)
    return forms.CharField(label=label, required=False, strip=False, help_text=help_text, widget=widget)


def _number(label: str, *, help_text: str = "", count: bool = False, **attrs) -> forms.CharField:
    attrs = {"inputmode": "decimal", **(COUNT_ATTRS if count else {}), **attrs}
    return forms.CharField(label=label, required=False, help_text=help_text, widget=forms.TextInput(attrs=attrs))


class ExperimentFieldsForm(forms.Form):
    name = _text("Name", required=True)
    description = _text("Description", rows=2)
    repeats = _number("Repeats", help_text="Each configuration runs every item this many times (1–100).",
                      count=True, inputmode="numeric")
    budget_tokens = _number("Token budget", help_text="Stop a sweep after this many tokens; blank for none.",
                            inputmode="numeric")
    budget_usd = _number("Budget (USD)", help_text="Stop a sweep after this estimated cost; blank for none.")
    alpha = _number("Significance level (α)", help_text="A run is a new best only when a paired test says it beats "
                    "the best at this level (Holm-corrected); blank for 0.05.")


class StageForm(forms.Form):
    name = _text("Stage name", help_text="Letters, digits and _; later stages read its output by this name.")
    endpoint = forms.CharField(label="Endpoint", required=False, widget=forms.Select)
    model = _text("Model", help_text="Pick from the endpoint's list or type any model name.", autocomplete="off")
    system_prompt = _text("System prompt", rows=2)
    prompt_template = _text("Prompt template", rows=5, spellcheck="false")
    temperature = _number("Temperature", help_text="0–2")
    top_p = _number("Top p", help_text="0–1")
    max_tokens = _number("Max tokens", inputmode="numeric")
    seed = _number("Seed", inputmode="numeric")
    extra = _text("Extra parameters (JSON object)", rows=1, spellcheck="false",
                  help_text='Anything else the provider takes, e.g. {"stop": ["\\n\\n"]}.')

    def __init__(self, *args, endpoints: list[tuple[str, str]], index: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["endpoint"].widget.choices = [("", "Choose an endpoint…"), *endpoints]
        self.fields["model"].widget.attrs["list"] = f"stage-{index}-models"


class ScorerForm(forms.Form):
    type = forms.CharField(label="Scorer type", required=False, widget=forms.Select)
    name = _text("Scorer name", help_text="Defaults to the type; each scorer needs its own.")
    weight = _number("Weight", help_text="≥ 0; the weighted score averages scorers by weight.")
    options = _text("Options (JSON object)", rows=2, spellcheck="false")

    def __init__(self, *args, types: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        current = self.data.get(self.add_prefix("type"), "")
        extra = [(current, current)] if current and current not in dict(types) else []
        self.fields["type"].widget.choices = [*types, *extra]


class AxisForm(forms.Form):
    path = forms.CharField(label="Sweeps", required=False, widget=forms.Select(attrs=COUNT_ATTRS))
    mode = forms.CharField(label="Values as", required=False, widget=forms.RadioSelect(
        choices=[("values", "a list of values"), ("range", "a range")], attrs=COUNT_ATTRS))
    values = _text("Values", rows=3, count=True, spellcheck="false",
                   help_text="One per line (numbers may be comma-separated), or a JSON list.")
    min = _number("Min", count=True)
    max = _number("Max", count=True)
    step = _number("Step", count=True, help_text="Grid points; leave blank to sample the range (random sweeps).")
    distribution = forms.CharField(label="Distribution", required=False, widget=forms.Select(
        choices=[("", "uniform (default)"), *((d, d.replace("_", " ")) for d in DISTRIBUTIONS)], attrs=COUNT_ATTRS))

    def __init__(self, *args, paths: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        current = self.data.get(self.add_prefix("path"), "")
        extra = [(current, current)] if current and current not in dict(paths) else []
        self.fields["path"].widget.choices = [("", "Choose a field…"), *paths, *extra]


def scorer_types(user) -> list[tuple[str, str]]:
    """Scorer types this user may add: admin-only ones (they run code) for admins with Python scorers on."""
    admin = user.is_superuser and settings.SCORERS_PYTHON_ENABLED
    return [(kind, label) for kind, label in SCORERS.choices() if admin or not SCORERS.get(kind).admin_only]


@dataclass
class RowView:
    index: int
    form: forms.Form
    variables: list[str] = field(default_factory=list)


def _bound(form: forms.Form, errors: dict[str | None, list[str]]) -> forms.Form:
    form.is_valid()  # all fields are optional text: this only readies add_error
    for name, messages in errors.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
    return form


def builder_forms(draft: Draft, *, user, endpoints: list[tuple[str, str]], errors: RoutedErrors) -> dict:
    """The page's forms, bound to `draft`, with `errors` next to their fields."""
    top = _bound(ExperimentFieldsForm(draft.fields), {name: m for name, m in errors.top.items()})
    stages = [RowView(i, _bound(StageForm(draft.row_data("stage", i), prefix=f"stage-{i}", endpoints=endpoints,
                                          index=i), errors.row("stage", i)),
                      variables=stage_variables(draft, i, draft.samples))
              for i in range(len(draft.stage))]
    types = scorer_types(user)
    scorers = [RowView(i, _bound(ScorerForm(draft.row_data("scorer", i), prefix=f"scorer-{i}", types=types),
                                 errors.row("scorer", i)))
               for i in range(len(draft.scorer))]
    paths = axis_paths(draft)
    axes = [RowView(i, _bound(AxisForm(draft.row_data("axis", i), prefix=f"axis-{i}", paths=paths),
                              errors.row("axis", i)))
            for i in range(len(draft.axis))]
    return {"top": top, "stages": stages, "scorers": scorers, "axes": axes, "section_errors": errors.sections,
            "other_errors": errors.other}
