"""The webhook scorer against a tiny aiohttp server on 127.0.0.1, through the egress client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from apps.engine import egress
from apps.engine.scorers.base import OptionsInvalid, ScoringContext
from apps.engine.scorers.webhook import WebhookScorer, http_post_json

ITEM = {"id": "7", "input": "Summarize this", "reference": "A summary"}


class Hook:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.server: TestServer | None = None

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def app(self) -> web.Application:
        replies = {
            "/score": lambda: web.json_response({"score": 0.75, "reason": "close enough", "checks": [1, 2]}),
            "/bool": lambda: web.json_response({"score": True}),
            "/too-high": lambda: web.json_response({"score": 1.5}),
            "/text-score": lambda: web.json_response({"score": "0.5"}),
            "/no-score": lambda: web.json_response({"value": 1}),
            "/list": lambda: web.json_response([0.5]),
            "/not-json": lambda: web.Response(text="all good"),
            "/error": lambda: web.Response(status=500, text="boom"),
            "/redirect": lambda: web.Response(status=302, headers={"Location": "http://169.254.169.254/latest"}),
            "/huge": lambda: web.Response(body=b"[" + b"1," * (egress.WEBHOOK_MAX_BODY_BYTES // 2) + b"1]"),
            "/big-metadata": lambda: web.json_response({"score": 0.1, "blob": "x" * 50_000}),
        }

        async def handle(request: web.Request) -> web.StreamResponse:
            self.requests.append({"path": request.path, "headers": {k.lower(): v for k, v in request.headers.items()},
                                  "body": await request.json()})
            if request.path == "/slow":
                await asyncio.sleep(5)
            return replies[request.path]()

        app = web.Application()
        app.router.add_post("/{tail:.*}", handle)
        return app


@pytest_asyncio.fixture
async def hook() -> AsyncIterator[Hook]:
    hook = Hook()
    hook.server = TestServer(hook.app(), host="127.0.0.1")
    await hook.server.start_server()
    yield hook
    await hook.server.close()


@pytest_asyncio.fixture
async def post_json():
    # Loopback is only reachable under the LLM policy; the WEBHOOK policy is tested separately below.
    async with egress.async_client(policy=egress.Policy.LLM) as client:
        yield http_post_json(client)


async def run(url: str, post_json, **options):
    scorer = WebhookScorer({"url": url, **options})
    ctx = ScoringContext(item=ITEM, output="The summary.", stage_outputs={"draft": "The summary."},
                         config={"stages": [{"model": "m"}]}, run_id="run-1", repeat=2, post_json=post_json)
    return await scorer.evaluate(ctx)


@pytest.mark.asyncio
async def test_it_posts_item_output_and_context_and_reads_the_score(hook, post_json):
    result = await run(hook.url("/score"), post_json, headers={"X-Token": "t0ken"})
    assert result.value == 0.75
    assert result.metadata == {"reason": "close enough", "checks": [1, 2]}
    sent = hook.requests[0]
    assert sent["body"] == {"item": ITEM, "output": "The summary.", "context": {
        "run_id": "run-1", "repeat": 2, "stage_outputs": {"draft": "The summary."},
        "config": {"stages": [{"model": "m"}]}}}
    assert sent["headers"]["x-token"] == "t0ken"


@pytest.mark.asyncio
async def test_a_boolean_score_is_one_or_zero(hook, post_json):
    assert (await run(hook.url("/bool"), post_json)).value == 1.0


@pytest.mark.parametrize(("path", "message"), [
    ("/too-high", "sent score 1.5; it must be a number from 0 to 1 or a boolean"),
    ("/text-score", 'sent score "0.5"'),
    ("/no-score", 'must answer a JSON object like {"score": 0.8}'),
    ("/list", 'must answer a JSON object like {"score": 0.8}; got [0.5]'),
    ("/not-json", "the reply is not JSON: all good"),
    ("/error", "HTTP 500: boom"),
    ("/redirect", "redirect to 169.254.169.254 not followed"),
    ("/huge", "larger than 1048576 bytes"),
])
@pytest.mark.asyncio
async def test_anything_but_a_score_is_a_clear_error(hook, post_json, path, message):
    result = await run(hook.url(path), post_json)
    assert result.value is None
    assert result.error.startswith("webhook 127.0.0.1 ") and message in result.error


@pytest.mark.asyncio
async def test_a_slow_webhook_times_out(hook, post_json):
    result = await run(hook.url("/slow"), post_json, timeout_s=0.2)
    assert result.value is None and "Timeout" in result.error


@pytest.mark.asyncio
async def test_oversized_extra_keys_are_not_stored(hook, post_json):
    result = await run(hook.url("/big-metadata"), post_json)
    assert result.value == 0.1 and list(result.metadata) == ["note"]


@pytest.mark.asyncio
async def test_the_webhook_policy_blocks_loopback_before_any_request(hook):
    async with egress.async_client(policy=egress.Policy.WEBHOOK) as client:
        result = await run(hook.url("/score"), http_post_json(client))
    assert result.value is None and "webhook 127.0.0.1 failed" in result.error
    assert hook.requests == []


@pytest.mark.asyncio
async def test_without_post_json_it_is_an_error():
    result = await run("https://hooks.example.com/score", None)
    assert result.error == "webhook calls are not available to this scorer"


@pytest.mark.parametrize(("options", "field"), [
    ({}, "url"),
    ({"url": "ftp://example.com/x"}, "url"),
    ({"url": "https://user:pw@example.com/"}, "url"),
    ({"url": "not a url"}, "url"),
    ({"url": "https://example.com", "headers": ["X"]}, "headers"),
    ({"url": "https://example.com", "headers": {"Bad Header": "x"}}, "headers.Bad Header"),
    ({"url": "https://example.com", "headers": {"X-A": "x\r\nInjected: 1"}}, "headers.X-A"),
    ({"url": "https://example.com", "timeout_s": 31}, "timeout_s"),
    ({"url": "https://example.com", "timeout_s": 0}, "timeout_s"),
])
def test_bad_options_name_the_option(options, field):
    with pytest.raises(OptionsInvalid) as caught:
        WebhookScorer.validate_options(options)
    assert caught.value.field == field
