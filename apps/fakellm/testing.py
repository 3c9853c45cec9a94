"""Pytest fixtures for the fake LLM server.

Registered by the root conftest with ``pytest_plugins = ["apps.fakellm.testing"]``.
``fake_llm_session`` is one server for the whole run; ``fake_llm`` is the same
server with counters, recorded bodies, flaky counts and latency reset per test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.fakellm.server import FakeLLMServer


@pytest.fixture(scope="session")
def fake_llm_session() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake_llm(fake_llm_session: FakeLLMServer) -> Iterator[FakeLLMServer]:
    fake_llm_session.reset_stats()
    fake_llm_session.latency_ms = 0
    yield fake_llm_session
    # A test may have changed the latency; later tests expect an instant server.
    fake_llm_session.latency_ms = 0
