"""Webhook scorer: POST the item and output to your own HTTP service and read back a score.

Request body: `{"item", "output", "context": {"run_id", "repeat", "stage_outputs", "config"}}`.
The reply must be a JSON object with `score`: a number in [0, 1] or a boolean (true → 1); its
other keys are kept as the score's metadata. The call goes through `ctx.post_json`, which the
Django side backs with the WEBHOOK egress policy (public addresses only, 1 MiB reply cap);
`http_post_json` builds such a callable from an egress client.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import httpx

from apps.engine import egress
from apps.engine.egress.urls import UrlRefused, accept_url
from apps.engine.scorers import options as opt
from apps.engine.scorers.base import OptionsInvalid, PostJson, Scorer, ScoreResult, ScoringContext

MAX_TIMEOUT_S = 30.0
MAX_HEADERS = 50
MAX_METADATA_CHARS = 20_000
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,200}$")


class WebhookError(Exception):
    """The webhook could not be called or did not answer with JSON."""


def _checked_url(options: dict) -> str:
    url = opt.text(options, "url", max_chars=2000).strip()
    try:
        # No allowlist here: only what every policy refuses; the WEBHOOK policy applies at connect time.
        return accept_url(url, policy=None)
    except UrlRefused as exc:
        raise OptionsInvalid("url", str(exc)) from None


def _checked_headers(options: dict) -> dict[str, str]:
    headers = options.get("headers") or {}
    if not isinstance(headers, dict) or len(headers) > MAX_HEADERS:
        raise OptionsInvalid("headers", f"Must be an object of at most {MAX_HEADERS} header names to values.")
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise OptionsInvalid(f"headers.{name}", "Not a valid header name.")
        if not isinstance(value, str) or len(value) > 8000 or re.search(r"[\r\n\x00]", value):
            raise OptionsInvalid(f"headers.{name}", "Must be a single-line string.")
    return dict(headers)


class WebhookScorer(Scorer):
    type = "webhook"
    secret_options = ("headers",)  # they usually carry the service's credentials

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        options = opt.start(options, ("url", "headers", "timeout_s"))
        return {
            "url": _checked_url(options),
            "headers": _checked_headers(options),
            "timeout_s": opt.number(options, "timeout_s", default=10.0, low=0.1, high=MAX_TIMEOUT_S),
        }

    async def score(self, ctx: ScoringContext) -> ScoreResult:
        if ctx.post_json is None:
            return ScoreResult.failed("webhook calls are not available to this scorer")
        body = {"item": ctx.item, "output": ctx.output, "context": {
            "run_id": ctx.run_id, "repeat": ctx.repeat, "stage_outputs": ctx.stage_outputs, "config": ctx.config}}
        host = httpx.URL(self.options["url"]).host
        try:
            reply = await ctx.post_json(self.options["url"], body, self.options["headers"], self.options["timeout_s"])
        except Exception as exc:  # whatever the transport raises, the webhook failed, not the scorer
            return ScoreResult.failed(f"webhook {host} failed: {str(exc) or type(exc).__name__}")
        return read_reply(reply, host)


def read_reply(reply: Any, host: str) -> ScoreResult:
    if not isinstance(reply, dict) or "score" not in reply:
        return ScoreResult.failed(f'webhook {host} must answer a JSON object like {{"score": 0.8}}; '
                                  f"got {json.dumps(reply)[:200]}")
    score = reply["score"]
    if isinstance(score, bool):
        value = float(score)
    elif isinstance(score, (int, float)) and math.isfinite(score) and 0 <= score <= 1:
        value = float(score)
    else:
        return ScoreResult.failed(f"webhook {host} sent score {json.dumps(score)[:100]}; "
                                  "it must be a number from 0 to 1 or a boolean")
    extra = {key: val for key, val in reply.items() if key != "score"}
    if len(json.dumps(extra)) > MAX_METADATA_CHARS:
        extra = {"note": f"metadata omitted: larger than {MAX_METADATA_CHARS} characters"}
    return ScoreResult(value, extra)


def http_post_json(client: httpx.AsyncClient) -> PostJson:
    """A `ScoringContext.post_json` over an egress client (redirects refused, reply capped at 1 MiB)."""

    async def post_json(url: str, body: dict, headers: dict[str, str], timeout_s: float) -> dict:
        request = client.build_request("POST", url, json=body, headers=headers, timeout=timeout_s)
        response = await client.send(request, stream=True)
        try:
            egress.raise_for_redirect(response)
            raw = await egress.read_capped(response, egress.WEBHOOK_MAX_BODY_BYTES)
        finally:
            await response.aclose()
        if response.status_code >= 400:
            raise WebhookError(f"HTTP {response.status_code}: {raw[:200].decode('utf-8', 'replace')}")
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise WebhookError(f"the reply is not JSON: {raw[:200].decode('utf-8', 'replace')}") from None

    return post_json
