from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from apps.gateway.app import Gateway
from apps.gateway.tests.builders import fresh_gateway


@pytest.fixture
def gateway(transactional_db, monkeypatch) -> Iterator[Gateway]:
    """A gateway of its own (its database threads see committed rows: the tests use transactional_db)."""
    # httpx's ASGITransport tries `import trio` on every request; trio is not installed, and the failed
    # lookup (a few stat calls) was a third of the in-process tests' time.
    monkeypatch.setitem(sys.modules, "trio", None)
    gateway = fresh_gateway()
    yield gateway
    gateway.db.close()
