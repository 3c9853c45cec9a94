"""Plain data passed between the engine and the Django apps (no ORM in here)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EndpointSpec:
    """What the engine needs to know about an endpoint row (key already decrypted)."""

    id: str
    kind: str
    base_url: str
    api_key: str = ""
    max_concurrency: int = 4
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 120.0
    prices: dict = field(default_factory=dict)

    def cost_usd(self, model: str, tokens_in: int, tokens_out: int) -> float:
        price = self.prices.get(model) or {}
        return (tokens_in * float(price.get("input", 0)) + tokens_out * float(price.get("output", 0))) / 1_000_000


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict]
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Completion:
    text: str
    tokens_in: int
    tokens_out: int
    latency_ms: int
    finish_reason: str = ""


class ProviderError(Exception):
    """A call that failed; `retryable` tells the retry loop whether trying again can help."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after_s = retry_after_s
