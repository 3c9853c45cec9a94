"""Model choices come from the engine's registries, so a new provider or planner needs no model edit."""

from apps.endpoints.models import Endpoint
from apps.engine.planners import PLANNERS
from apps.engine.providers import PROVIDERS
from apps.runs.models import Sweep


def test_endpoint_kinds_are_the_registered_providers_with_their_labels():
    assert Endpoint.Kind.choices == PROVIDERS.choices()
    assert [value for value, _ in Endpoint.Kind.choices] == ["openai", "anthropic"]
    assert Endpoint.Kind.OPENAI == "openai"


def test_sweep_kinds_are_the_registered_planners_plus_single_runs():
    assert Sweep.Kind.values == [*PLANNERS.kinds(), "single"]
    assert {"grid", "random", "guided", "halving"} <= set(Sweep.Kind.values)
    assert Sweep.Kind.SINGLE.label == "Single"
