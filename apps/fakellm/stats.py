"""Request counters, recorded bodies and shared state of the fake LLM server."""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from apps.fakellm.faults import FlakyCounter

DEFAULT_MODELS = ["fake-chat", "fake-chat-large", "fake-embed"]
ROUTES = ("chat", "embeddings", "models", "health")
MAX_RECORDED = 200


@dataclass(frozen=True)
class RecordedRequest:
    route: str
    body: Any
    headers: dict[str, str]


class Stats(Mapping[str, int]):
    """Request counts per route (``stats["chat"]``) plus recent requests.

    ``bodies`` holds recent JSON bodies of POST routes (raw text when the JSON
    was invalid), ``requests`` every recent request with route and headers,
    ``faults`` how often each fault name was served.
    """

    def __init__(self, max_recorded: int = MAX_RECORDED) -> None:
        # Handlers write on the server thread while tests read and reset from theirs.
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter(dict.fromkeys(ROUTES, 0))
        self.faults: Counter[str] = Counter()
        self.bodies: deque[Any] = deque(maxlen=max_recorded)
        self.requests: deque[RecordedRequest] = deque(maxlen=max_recorded)

    def __getitem__(self, route: str) -> int:
        if route not in self.counts:
            raise KeyError(route)
        return self.counts[route]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.counts))

    def __len__(self) -> int:
        return len(self.counts)

    @property
    def last_body(self) -> Any:
        return self.bodies[-1] if self.bodies else None

    def record(self, route: str, body: Any, headers: Mapping[str, str]) -> None:
        """Count a request; only POST routes (body not None) land in `bodies`."""
        with self._lock:
            self.counts[route] += 1
            if body is not None:
                self.bodies.append(body)
            self.requests.append(RecordedRequest(route, body, dict(headers)))

    def record_fault(self, name: str) -> None:
        with self._lock:
            self.faults[name] += 1

    def reset(self) -> None:
        with self._lock:
            self.counts = Counter(dict.fromkeys(ROUTES, 0))
            self.faults.clear()
            self.bodies.clear()
            self.requests.clear()


@dataclass
class State:
    """Mutable server state shared by the handlers and FakeLLMServer."""

    latency_ms: float = 0.0
    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    stats: Stats = field(default_factory=Stats)
    flaky: FlakyCounter = field(default_factory=FlakyCounter)
