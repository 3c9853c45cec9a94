"""The plug-in registry: kinds in order, lazy imports, choices for models, a clear unknown-kind error."""

from __future__ import annotations

import sys

import pytest

from apps.engine.planners import PLANNERS
from apps.engine.registry import Registry, UnknownKind
from apps.engine.scorers import SCORERS


def test_a_kind_is_imported_only_when_first_asked_for():
    sys.modules.pop("colorsys", None)
    registry = Registry("thing", {"hsv": "colorsys.rgb_to_hsv"})
    assert "colorsys" not in sys.modules
    assert registry.get("hsv").__name__ == "rgb_to_hsv"
    assert "colorsys" in sys.modules


def test_an_unknown_kind_names_the_known_ones():
    registry = Registry("widget kind", {"b": "decimal.Decimal", "a": "fractions.Fraction"})
    with pytest.raises(UnknownKind, match=r"unknown widget kind 'c' \(known: b, a\)"):
        registry.get("c")
    assert "c" not in registry and 3 not in registry


def test_choices_use_the_given_label_or_one_made_from_the_kind():
    registry = Registry("thing", {"llm_judge": "decimal.Decimal", "openai": ("decimal.Decimal", "OpenAI API")})
    assert registry.choices() == [("llm_judge", "Llm judge"), ("openai", "OpenAI API")]


def test_every_registered_plugin_says_which_kind_it_is():
    assert [SCORERS.get(kind).type for kind in SCORERS] == list(SCORERS.kinds())
    assert [PLANNERS.get(kind).kind for kind in PLANNERS] == list(PLANNERS.kinds())


def test_scorer_traits_live_on_the_scorers():
    traits = {kind: cls for kind, cls in zip(SCORERS.kinds(), SCORERS.classes(), strict=True)}
    assert [k for k, c in traits.items() if c.admin_only] == ["python"]
    assert [k for k, c in traits.items() if c.human] == ["human"]
    assert [k for k, c in traits.items() if not c.computed] == ["human"]
    assert {k for k, c in traits.items() if c.needs_endpoint} == {"llm_judge", "embedding_similarity"}
    assert {k: c.secret_options for k, c in traits.items() if c.secret_options} == {"webhook": ("headers",)}
