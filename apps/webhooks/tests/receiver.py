"""A webhook receiver for tests: a threaded HTTP server on 127.0.0.1 that records requests and answers as told."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    hang_s: float = 0.0  # hold the request this long before answering (longer than the client's read timeout)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.replies: list[Reply] = []  # answered in order; then 200 "ok"
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body, self.path))
                reply = receiver.replies.pop(0) if receiver.replies else Reply()
                if reply.hang_s:
                    receiver._release.wait(reply.hang_s)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up (timeout)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
