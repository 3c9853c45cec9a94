"""The scorer contract: score(item, output, context) → a value in [0, 1] with metadata explaining it.

Scorers are plain Python. Anything that needs the outside world (an LLM judge, embeddings, an HTTP
webhook) comes in through the ScoringContext callables, which the Django side backs with the
response cache and the egress guard, so scorers stay testable without a database.
"""

from __future__ import annotations

import json
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from apps.engine.types import ChatRequest, Completion

logger = logging.getLogger(__name__)


class OptionsInvalid(ValueError):
    """Bad scorer options; `field` is the option's name (dotted for nested options)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class ScorerError(Exception):
    """A scorer could not score this output; recorded as an errored score, never raised further."""


@dataclass
class ScoreResult:
    value: float | None
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @classmethod
    def failed(cls, message: str, **metadata: Any) -> ScoreResult:
        return cls(value=None, metadata=metadata, error=message)

    def clamped(self) -> ScoreResult:
        if self.value is None:
            return self
        if not isinstance(self.value, (int, float)) or not math.isfinite(self.value):
            return ScoreResult.failed(f"scorer returned a non-finite value: {self.value!r}", **self.metadata)
        self.value = min(1.0, max(0.0, float(self.value)))
        return self


JudgeCall = Callable[[str, ChatRequest], Awaitable[Completion]]  # (endpoint_id, request) → cached completion
EmbedCall = Callable[[str, str, list[str]], Awaitable[list[list[float]]]]  # (endpoint_id, model, texts)
PostJson = Callable[[str, dict, dict[str, str], float], Awaitable[dict]]  # (url, body, headers, timeout_s)


@dataclass
class ScoringContext:
    """Everything a scorer may read about one output, plus the callables to reach outside."""

    item: dict
    output: str
    stage_outputs: dict[str, str] = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    run_id: str = ""
    repeat: int = 0
    judge: JudgeCall | None = None
    embed: EmbedCall | None = None
    post_json: PostJson | None = None
    python_enabled: bool = False


class Scorer(ABC):
    """Base class: subclasses set `type`, validate their options once, and score one output.

    Traits the rest of the code asks about are class attributes here, never `type == "…"` checks:

    - `computed`: the engine scores outputs with it; False for ratings that people enter.
    - `human`: people rate outputs with it (the rating service stores its `normalize(rating)`).
    - `admin_only`: only administrators may add it (it runs code); refused with `admin_only_message`.
    - `secret_options`: options whose values are credentials, never echoed back (an object option
      has each of its values hidden).
    - `needs_endpoint`: its `endpoint` option names one of the owner's endpoints, which must exist
      and which the scoring host loads; `endpoint_of(options)` reads it.
    - `label_metrics`: its per-item metadata holds `expected` and `predicted` labels, so a run gets
      a label report (precision, recall, F1, confusion matrix) from them.
    """

    type: ClassVar[str]
    computed: ClassVar[bool] = True
    human: ClassVar[bool] = False
    admin_only: ClassVar[bool] = False
    admin_only_message: ClassVar[str] = "Only administrators may add this scorer."
    secret_options: ClassVar[tuple[str, ...]] = ()
    needs_endpoint: ClassVar[bool] = False
    label_metrics: ClassVar[bool] = False

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = self.validate_options(options)

    @classmethod
    def endpoint_of(cls, options: Mapping[str, Any]) -> str | None:
        """The endpoint id that validated `options` name, or None (always None without `needs_endpoint`)."""
        endpoint = options.get("endpoint") if cls.needs_endpoint else None
        return str(endpoint) if endpoint else None

    @classmethod
    @abstractmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        """Return normalized options or raise OptionsInvalid naming the option."""

    @abstractmethod
    async def score(self, ctx: ScoringContext) -> ScoreResult:
        """Score one output; raise ScorerError (or return ScoreResult.failed) when it cannot."""

    async def evaluate(self, ctx: ScoringContext) -> ScoreResult:
        """`score` made safe to call: errors become failed results and values are clamped to [0, 1]."""
        try:
            result = await self.score(ctx)
        except ScorerError as exc:
            return ScoreResult.failed(str(exc))
        except Exception as exc:  # a scorer bug must cost one score, not the whole run
            logger.exception("%s scorer crashed", self.type)
            return ScoreResult.failed(f"{self.type} scorer crashed: {type(exc).__name__}: {exc}")
        return result.clamped()


def item_reference(item: dict) -> str | None:
    """The item's reference answer as text: `reference` wins over `expected`; None when it has neither."""
    for key in ("reference", "expected"):
        value = item.get(key)
        if value is None or value == "":
            continue
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return None
