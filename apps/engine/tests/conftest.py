"""Fixtures for egress and provider tests: a canary HTTP server and a DNS stub.

"Blocked" means the call failed AND the canary saw no request, so every SSRF test asserts
`canary.hits == 0` next to the error.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.engine.egress import policy


class Canary:
    """An HTTP server on 127.0.0.1 that counts hits and answers with a configurable reply."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.hits = 0
        self.requests: list[dict[str, str]] = []
        self.status, self.headers, self.body = 200, {"Content-Type": "text/plain"}, b"canary"
        self.send_length = True
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reply(self, status: int = 200, body: bytes = b"canary", headers: dict[str, str] | None = None,
              *, send_length: bool = True) -> None:
        self.status, self.body, self.send_length = status, body, send_length
        self.headers = {"Content-Type": "text/plain", **(headers or {})}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with canary._lock:
                    canary.hits += 1
                    canary.requests.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(canary.status)
                for name, value in canary.headers.items():
                    self.send_header(name, value)
                if canary.send_length:
                    self.send_header("Content-Length", str(len(canary.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(canary.body)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args: object) -> None:
                return None

        return Handler


@pytest.fixture
def make_canary() -> Iterator[Callable[..., Canary]]:
    servers: list[Canary] = []

    def make(tls: ssl.SSLContext | None = None) -> Canary:
        servers.append(Canary(tls))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def canary(make_canary: Callable[[], Canary]) -> Canary:
    return make_canary()


class StubDNS:
    """Answers for chosen names; a list of answers is served in turn (the last one repeats).

    An empty answer fails the way getaddrinfo does for a name that does not exist.
    """

    def __init__(self, real: Callable[[str, int], list[str]]) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: dict[str, int] = {}
        self._real = real

    def __call__(self, mapping: dict[str, list[str] | list[list[str]]]) -> StubDNS:
        for name, answer in mapping.items():
            self.answers[name] = answer if answer and isinstance(answer[0], list) else [answer]
        return self

    def resolve(self, host: str, port: int) -> list[str]:
        if host not in self.answers:
            return self._real(host, port)
        count = self.lookups.get(host, 0)
        self.lookups[host] = count + 1
        answers = self.answers[host]
        answer = answers[min(count, len(answers) - 1)]
        if not answer:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(answer)


@pytest.fixture
def stub_dns(monkeypatch: pytest.MonkeyPatch) -> StubDNS:
    stub = StubDNS(policy.resolve)
    monkeypatch.setattr(policy, "resolve", stub.resolve)
    return stub


@pytest.fixture(scope="session")
def tls_identity(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a self-signed `pinned.test` certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pinned.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("pinned.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client
