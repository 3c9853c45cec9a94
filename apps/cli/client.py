"""The REST client the commands share: base URL and key, JSON in and out, refusals as ApiError."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx

import apps.cli

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class CliError(Exception):
    """A problem the user can fix; the command prints the message (no traceback) and exits with `code`."""

    def __init__(self, message: str, *, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


class ApiError(CliError):
    """The server refused: `status` and its body (field errors keyed by path, or `detail`)."""

    def __init__(self, status: int, body: Any, *, method: str, path: str) -> None:
        self.status, self.body = status, body
        self.field_errors: dict[str, list[str]] = {}
        detail = ""
        if isinstance(body, dict):
            detail = str(body.get("detail") or "")
            self.field_errors = {key: value if isinstance(value, list) else [str(value)]
                                 for key, value in body.items() if key != "detail"}
        # Each field's errors on a line of their own, by name; not found is exit 3 like a name nobody has.
        lines = "".join(f"\n  {key}: {msg}" for key, msgs in self.field_errors.items() for msg in msgs)
        summary = detail or ("invalid request" if lines else "error")
        super().__init__(f"{method} {path}: {status} {summary}{lines}",
                         code=3 if status == 404 or status >= 500 else 2)


def is_uuid(text: str) -> bool:
    return bool(_UUID.match(text))


class Api:
    def __init__(self, server: str, key: str, *, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not server:
            raise CliError("No server: pass --server URL or set PROMPTLOOPER_URL.")
        if not key:
            raise CliError("No API key: pass --api-key or set PROMPTLOOPER_API_KEY (create one on the API keys page).")
        self.server = server.rstrip("/")
        self.http = httpx.Client(
            base_url=f"{self.server}/api/v1", timeout=timeout, follow_redirects=False, transport=transport,
            headers={"Authorization": f"Bearer {key}", "User-Agent": f"promptlooper-cli/{apps.cli.__version__}",
                     "Accept": "application/json"})

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, *, json: Any = None, params: dict | None = None,
                raw: bool = False) -> Any:
        try:
            response = self.http.request(method, path, json=json, params=params)
        except httpx.HTTPError as exc:
            raise CliError(f"Cannot reach {self.server}: {exc}", code=3) from None
        if response.status_code in (401, 403):
            raise CliError(f"{method} {path}: the server refused the API key ({response.status_code}"
                           f"{': ' + _detail(response) if _detail(response) else ''}).", code=3)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"detail": response.text[:300]}
            raise ApiError(response.status_code, body, method=method, path=path)
        if raw:
            return response
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, json=body)

    def pages(self, path: str, **params: Any) -> Iterator[dict]:
        """Every result of a paginated list."""
        page = 1
        while True:
            body = self.get(path, **params, page=page, page_size=500)
            yield from body["results"]
            if not body.get("next"):
                return
            page += 1


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("detail", "")) if isinstance(body, dict) else ""
