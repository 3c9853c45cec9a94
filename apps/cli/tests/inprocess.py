"""The CLI against the real API on the test database, in process: httpx requests answered by Django's test client."""

from __future__ import annotations

import functools

import httpx
import pytest
from django.test import Client

from apps.accounts.services import api_key_create
from apps.cli import main as cli_main
from apps.cli.client import Api

SKIPPED_HEADERS = {"host", "content-length", "content-type"}


class DjangoTestTransport(httpx.BaseTransport):
    def __init__(self) -> None:
        self.client = Client()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in SKIPPED_HEADERS}
        response = self.client.generic(request.method, request.url.raw_path.decode(), data=request.read(),
                                       content_type=request.headers.get("content-type", ""), headers=headers)
        return httpx.Response(response.status_code, headers=list(response.items()), content=response.content)


def cli_for(user, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """`run(*argv) -> (exit code, stdout, stderr)` as `user`, with an API key of theirs."""
    _, raw = api_key_create(user=user, name="ci")
    monkeypatch.setattr(cli_main, "Api", functools.partial(Api, transport=DjangoTestTransport()))

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli_main.main([*argv, "--server", "http://testserver", "--api-key", raw])
        out, err = capsys.readouterr()
        return code, out, err

    return run
