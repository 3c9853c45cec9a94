"""A pipeline whose endpoint cannot be had fails its items with the reason; nothing escapes `run_pipeline`."""

import asyncio

from apps.engine.pipeline import CachedCall, run_pipeline
from apps.engine.types import ChatRequest, Completion, EndpointSpec, ProviderError

ITEMS = [{"id": "a", "input": "first"}, {"id": "b", "input": "second"}]


class Backend:
    """Serves endpoint "up"; asking for any other endpoint raises like an unavailable one does."""

    cache_owner = "owner-1"

    def __init__(self) -> None:
        self.sent: list[ChatRequest] = []

    def endpoint(self, endpoint_id: str) -> EndpointSpec:
        if endpoint_id != "up":
            raise ProviderError(f"endpoint {endpoint_id} is not available (deleted, or not one of the "
                                f"experiment owner's endpoints)")
        return EndpointSpec(id="up", kind="openai", base_url="http://127.0.0.1:9/v1")

    async def cache_get_many(self, keys: list[str]) -> dict[str, CachedCall]:
        return {}

    async def complete(self, endpoint: EndpointSpec, request: ChatRequest) -> Completion:
        self.sent.append(request)
        return Completion(text=f"out {len(self.sent)}", tokens_in=3, tokens_out=2, latency_ms=1, finish_reason="stop")

    def should_stop(self) -> bool:
        return False

    def call_completed(self, **kwargs) -> None:
        pass


def stage(name: str, endpoint: str, template: str) -> dict:
    return {"name": name, "endpoint": endpoint, "model": "m", "prompt_template": template}


def two_stages(first: str, second: str) -> dict:
    return {"stages": [stage("extract", first, "Extract: {{ input }}"),
                       stage("summarize", second, "Sum: {{ previous }}")]}


def run(config: dict, backend: Backend):
    return asyncio.run(run_pipeline(run_id="r1", config=config, items=ITEMS, repeats=2, backend=backend))


def test_a_first_stage_whose_endpoint_is_unavailable_fails_every_item_with_the_reason_and_calls_nothing():
    backend = Backend()
    outcome = run(two_stages("gone-1", "up"), backend)

    assert outcome.failed_items == ["a#0", "a#1", "b#0", "b#1"]
    assert not outcome.interrupted and backend.sent == []
    assert {(r.stage_index, r.stage_name, r.endpoint_id) for r in outcome.results} == {(0, "extract", "gone-1")}
    assert all(r.error == "stage 'extract': endpoint gone-1 is not available (deleted, or not one of the "
                          "experiment owner's endpoints)" for r in outcome.results)


def test_a_later_stage_whose_endpoint_is_unavailable_keeps_the_earlier_outputs_and_fails_there():
    backend = Backend()
    outcome = run(two_stages("up", "gone-2"), backend)

    first = [r for r in outcome.results if r.stage_index == 0]
    second = [r for r in outcome.results if r.stage_index == 1]
    assert len(backend.sent) == 4 and all(r.text and not r.error for r in first)
    assert len(second) == 4 and all("stage 'summarize': endpoint gone-2 is not available" in r.error for r in second)
    assert outcome.failed_items == ["a#0", "a#1", "b#0", "b#1"]
