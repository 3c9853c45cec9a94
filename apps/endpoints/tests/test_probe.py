import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from apps.endpoints.models import Endpoint
from apps.endpoints.probe import _explain_exception, endpoint_probe
from apps.endpoints.services import endpoint_create
from apps.engine.egress.transports import UnrequestableURL

pytestmark = pytest.mark.django_db

CANARY = "CANARYKEY-probe-5566778899"


class ScriptedHandler(BaseHTTPRequestHandler):
    """Answers by the first path segment: /401/v1/models → 401, /html/... → HTML, and so on."""

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", content_type="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.server.seen.append((self.path, dict(self.headers)))
        mode = self.path.split("/")[1]
        models = json.dumps({"data": [{"id": "claude-x", "type": "model"}], "has_more": False}).encode()
        if mode == "401":
            self.reply(401, f'{{"error": "Incorrect API key provided: {CANARY}"}}'.encode())
        elif mode == "403":
            self.reply(403, b"{}")
        elif mode == "500":
            self.reply(503, b"SECRET-MARKER upstream down", "text/plain")
        elif mode == "redirect":
            self.reply(302, headers=[("Location", f"http://127.0.0.1:{self.server.server_port}/target/v1/models")])
        elif mode == "html":
            self.reply(200, b"<html>SECRET-MARKER login page</html>", "text/html")
        elif mode == "shape":
            self.reply(200, b'{"models": ["a"]}')
        elif mode == "hang":
            self.server.release.wait(10)
        elif mode == "anthropic":
            self.reply(200, models)
        else:
            self.reply(404, b"<h1>SECRET-MARKER not found</h1>", "text/html")


@pytest.fixture(scope="module")
def scripted():
    server = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedHandler)
    server.seen, server.release = [], threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def seen(scripted):
    scripted.seen.clear()
    return scripted.seen


def probe(owner, base_url, **kwargs):
    kwargs.setdefault("api_key", CANARY)
    endpoint = endpoint_create(owner=owner, label="t", base_url=base_url, **kwargs)
    return endpoint_probe(endpoint=endpoint)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_fake_server_models_are_listed_and_the_key_is_sent_as_bearer(owner, fake_llm):
    result = probe(owner, fake_llm.base_url)
    assert result.ok is True
    assert result.error is None and result.detail is None
    assert {"fake-chat", "fake-chat-large", "fake-embed"} <= set(result.models)
    assert result.latency_ms >= 0
    assert fake_llm.stats["models"] == 1
    assert fake_llm.stats.requests[-1].headers.get("Authorization") == f"Bearer {CANARY}"


def test_no_authorization_header_is_sent_without_a_key(owner, fake_llm):
    assert probe(owner, fake_llm.base_url, api_key="").ok
    assert "Authorization" not in fake_llm.stats.requests[-1].headers


def test_the_test_route_returns_the_result_without_the_key(api, owner, fake_llm):
    endpoint = endpoint_create(owner=owner, label="fake", base_url=fake_llm.base_url, api_key=CANARY)
    response = api.post(f"/api/v1/endpoints/{endpoint.pk}/test")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert "fake-chat" in body["models"]
    assert set(body) == {"ok", "models", "latency_ms", "error", "detail"}
    assert CANARY.encode() not in response.content


def test_a_failed_test_is_still_a_200_with_an_explanation(api, owner):
    port = closed_port()
    endpoint = endpoint_create(owner=owner, label="dead", base_url=f"http://127.0.0.1:{port}/v1")
    response = api.post(f"/api/v1/endpoints/{endpoint.pk}/test")
    assert response.status_code == 200
    assert response.json()["ok"] is False
    assert response.json()["error"] == "connection_refused"
    assert response.json()["models"] == []


def test_a_closed_port_means_nothing_is_listening(owner):
    port = closed_port()
    result = probe(owner, f"http://127.0.0.1:{port}/v1")
    assert (result.ok, result.error) == (False, "connection_refused")
    assert f"Nothing is listening at 127.0.0.1:{port}" in result.detail


def test_an_unresolvable_host_is_a_dns_failure(owner):
    result = probe(owner, "http://no-such-host.invalid/v1")
    assert result.error == "dns_failure"
    assert "no-such-host.invalid" in result.detail


@pytest.mark.parametrize("status", ["401", "403"])
def test_a_rejected_key_is_explained_and_never_echoed(owner, scripted, seen, status):
    result = probe(owner, f"http://127.0.0.1:{scripted.server_port}/{status}/v1")
    assert result.error == "auth_rejected"
    assert "rejected the API key" in result.detail
    assert CANARY not in result.detail


def test_a_missing_models_route_suggests_the_v1_suffix(owner, scripted, seen):
    base = f"http://127.0.0.1:{scripted.server_port}/nothing"
    result = probe(owner, base)
    assert result.error == "not_found"
    assert result.detail.startswith(f"No models route at {base}/models")
    assert "ends in /v1" in result.detail
    assert "SECRET-MARKER" not in result.detail


def test_a_redirect_is_reported_and_never_followed(owner, scripted, seen):
    result = probe(owner, f"http://127.0.0.1:{scripted.server_port}/redirect/v1")
    assert result.error == "redirect"
    assert f"redirected (HTTP 302) to http://127.0.0.1:{scripted.server_port}" in result.detail
    assert [path for path, _ in seen] == ["/redirect/v1/models"]


@pytest.mark.parametrize("mode", ["html", "shape"])
def test_a_response_that_is_not_a_model_list_is_explained(owner, scripted, seen, mode):
    result = probe(owner, f"http://127.0.0.1:{scripted.server_port}/{mode}/v1")
    assert result.error == "bad_response"
    assert "not an OpenAI-compatible response" in result.detail
    assert "SECRET-MARKER" not in result.detail


def test_a_server_error_is_explained_without_its_body(owner, scripted, seen):
    result = probe(owner, f"http://127.0.0.1:{scripted.server_port}/500/v1")
    assert result.error == "server_error"
    assert "HTTP 503" in result.detail
    assert "SECRET-MARKER" not in result.detail


def test_a_silent_server_times_out(owner, scripted, seen):
    result = probe(owner, f"http://127.0.0.1:{scripted.server_port}/hang/v1", read_timeout_s=0.2)
    assert result.error == "timeout"
    assert "did not answer within 0.2 s" in result.detail


def test_anthropic_endpoints_use_x_api_key_and_the_version_header(owner, scripted, seen):
    result = probe(owner, f"http://127.0.0.1:{scripted.server_port}/anthropic", kind="anthropic")
    assert result.ok and result.models == ["claude-x"]
    path, headers = seen[-1]
    assert path == "/anthropic/v1/models"
    assert headers.get("x-api-key") == CANARY
    assert headers.get("anthropic-version") == "2023-06-01"
    assert "Authorization" not in headers


def test_the_probe_does_not_use_proxies_from_the_environment(owner, fake_llm, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("ALL_PROXY", f"http://127.0.0.1:{closed_port()}")
    assert probe(owner, fake_llm.base_url).ok


@pytest.mark.parametrize("stored, reason", [
    ("http://127.0.0.1:abc/v1", "port"), ("http://127.0.0.1:99999/v1", "port"), ("http://[::1:1/v1", "not a valid URL"),
])
def test_testing_a_stored_url_no_client_can_request_explains_why(api, owner, stored, reason):
    endpoint = endpoint_create(owner=owner, label="old row", base_url="http://127.0.0.1:8000/v1")
    Endpoint.objects.filter(pk=endpoint.pk).update(base_url=stored)
    response = api.post(f"/api/v1/endpoints/{endpoint.pk}/test")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False and body["models"] == [] and body["error"] == "invalid_url"
    assert reason in body["detail"]


@pytest.mark.parametrize("refusal", [
    UnrequestableURL("port 99999 is out of range (1-65535)"), httpx.InvalidURL("port 99999 is out of range (1-65535)"),
])
def test_a_url_the_transport_refuses_is_explained_with_its_reason(owner, refusal):
    endpoint = endpoint_create(owner=owner, label="t", base_url="http://127.0.0.1:8000/v1")
    code, detail = _explain_exception(refusal, where="127.0.0.1:99999", endpoint=endpoint)
    assert code == "invalid_url"
    assert "port 99999 is out of range (1-65535)" in detail
