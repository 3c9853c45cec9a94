"""Watches a browser context for console errors, uncaught page errors, server errors and foreign requests."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response, WebSocket

# Schemes that never leave the browser.
LOCAL_SCHEMES = {"data", "blob", "about"}
FAILED_LOAD = "Failed to load resource: the server responded with a status of 4"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}"


class PageRecorder:
    """Collects problems while a test runs; `problems` is empty when the pages behaved."""

    def __init__(self, context: BrowserContext, *, origin: str) -> None:
        self.origin = origin_of(origin)
        self.console_errors: list[tuple[str, str]] = []
        self.page_errors: list[str] = []
        self.foreign_requests: list[str] = []
        self.server_errors: list[str] = []
        self.documents_4xx: set[str] = set()
        context.on("console", self._on_console)
        context.on("weberror", lambda error: self.page_errors.append(str(error.error)))
        context.on("request", self._on_request)
        context.on("response", self._on_response)
        context.on("page", self._watch_page)

    @property
    def problems(self) -> list[str]:
        console = [f"console error: {text} ({url})" for text, url in self.console_errors
                   if not self._deliberate(text, url)]
        return (console
                + [f"uncaught page error: {text}" for text in self.page_errors]
                + [f"request to a foreign origin: {url}" for url in self.foreign_requests]
                + [f"server error: {text}" for text in self.server_errors])

    def _deliberate(self, text: str, url: str) -> bool:
        """A page answered 4xx on purpose (a form with errors is a 400, a missing object a 404 page):
        Chromium logs that as a console error, but the page itself is what the person sees."""
        return text.startswith(FAILED_LOAD) and url in self.documents_4xx

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append((message.text, message.location.get("url", "")))

    def _on_request(self, request: Request) -> None:
        self._check_url(request.url)

    def _on_response(self, response: Response) -> None:
        if response.status >= 500:
            # Chromium logs no console error when a page itself (not a subresource) answers 5xx.
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")
        elif response.status >= 400 and response.request.is_navigation_request():
            self.documents_4xx.add(response.url)

    def _watch_page(self, page: Page) -> None:
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, socket: WebSocket) -> None:
        self._check_url(socket.url)

    def _check_url(self, url: str) -> None:
        if urlsplit(url).scheme not in LOCAL_SCHEMES and origin_of(url) != self.origin:
            self.foreign_requests.append(url)
