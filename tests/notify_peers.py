"""The customer channels' peers, real servers on 127.0.0.1 for the tests: a mail server (aiosmtpd) and an
HTTP receiver that checks the webhook contract (docs/webhooks.md) as an office's own receiver would.

``SmtpServer`` keeps every message it took (parsed), can ask for a login, refuse recipients, and speak TLS
(from the first byte, or after STARTTLS) with a certificate ``make_certificate`` makes for 127.0.0.1.
``WebhookReceiver`` verifies each request's signature and timestamp (401 when wrong or older than 300 s),
checks a bearer token when told one, keeps what it accepted and counts it by idempotency key; it can be
told to answer 503 for a while (``fail_next``) or until told otherwise (``down``/``up``).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from dispatch_tui import clock

REPLAY_WINDOW_S = 300  # a signed request older than this is refused as a replay


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on (closed again: connecting to it is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost: trusted by the client when ``cert`` is the
    CA file it reads (SSL_CERT_FILE)."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_certificate(directory: Path) -> Certificate:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the TLS tests need the openssl command (apt-get install openssl)")
    cert, key = directory / "server.pem", directory / "server.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)


@dataclass(frozen=True)
class Received:
    """One message the mail server took."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None  # who logged in, if anyone


class _Mailbox:
    """aiosmtpd's handler: refuses the recipients it is told to, keeps the rest's messages."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[Received] = []
        self.refusals: dict[str, str] = {}  # address -> the SMTP answer to its RCPT

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            refusal = self.refusals.get(address.lower())
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        with self.lock:
            self.messages.append(Received(envelope.mail_from or "", list(envelope.rcpt_tos), message, login))
        return "250 Message accepted for delivery"


class SmtpServer:
    """A mail server on 127.0.0.1. ``login``: the (user, password) it asks for; ``tls``: the certificate
    it speaks TLS with, from the first byte (``implicit_tls``) or after STARTTLS."""

    def __init__(
        self, *, login: tuple[str, str] | None = None, tls: Certificate | None = None, implicit_tls: bool = False
    ) -> None:
        self.port = free_port()
        self.host = "127.0.0.1"
        self._mailbox = _Mailbox()
        self._login = login
        context = tls.server_context() if tls else None
        self._controller = Controller(
            self._mailbox, hostname=self.host, port=self.port,
            ssl_context=context if implicit_tls else None,
            tls_context=None if implicit_tls else context,
            auth_required=login is not None,
            # A login in clear only where there is no TLS to test; from the first byte, aiosmtpd does not
            # count the connection as TLS (it knows STARTTLS only), so it must not ask for it either.
            auth_require_tls=tls is not None and not implicit_tls,
            authenticator=self._authenticate if login else None,
        )  # fmt: skip

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        wanted = self._login
        ok = (
            wanted is not None and isinstance(auth_data, LoginPassword)
            and hmac.compare_digest(auth_data.login, wanted[0].encode())
            and hmac.compare_digest(auth_data.password, wanted[1].encode())
        )  # fmt: skip
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    @property
    def messages(self) -> list[Received]:
        with self._mailbox.lock:
            return list(self._mailbox.messages)

    def refuse(self, address: str, answer: str = "550 5.1.1 No such mailbox here") -> None:
        """Answer the RCPT of ``address`` with ``answer`` (a 4xx for a temporary refusal)."""
        with self._mailbox.lock:
            self._mailbox.refusals[address.lower()] = answer

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


@dataclass(frozen=True)
class Delivery:
    """One request the receiver accepted."""

    path: str
    headers: dict[str, str]  # names lower-cased
    payload: dict[str, Any]


class WebhookReceiver:
    """An HTTP receiver on 127.0.0.1 (HTTP/1.1, keep-alive) that holds requests to the webhook contract.

    ``secret``: requests must carry a valid X-Dispatch-Signature made with it, over a timestamp within 300 s
    of ``now`` (by default the product's clock, which the suite sets); None: signatures are not checked.
    ``token``: requests must carry ``Authorization: Bearer <token>`` (the SMS gateway's)."""

    def __init__(
        self, secret: str | None, *, token: str | None = None, now: Callable[[], datetime] = clock.now
    ) -> None:  # fmt: skip
        self.secret = secret
        self.token = token
        self.now = now
        self.lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._refusals: list[tuple[int, str]] = []  # (status, why) of every request refused
        self._failing = 0
        self._down = False
        self.delay_s = 0.0  # how long each accepted request takes to handle (a slow receiver)
        self.overlaps = 0  # requests that came while another one with the same key was being handled
        self._in_flight: Counter[str] = Counter()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        self.url = f"http://127.0.0.1:{self._server.server_port}/hooks/dispatch"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)  # fmt: skip

    @property
    def deliveries(self) -> list[Delivery]:
        with self.lock:
            return list(self._deliveries)

    @property
    def refusals(self) -> list[tuple[int, str]]:
        with self.lock:
            return list(self._refusals)

    def counts(self) -> Counter[str]:
        """How many times each idempotency key was accepted: above 1, the receiver got a duplicate."""
        with self.lock:
            return Counter(delivery.headers.get("idempotency-key", "") for delivery in self._deliveries)

    def fail_next(self, times: int) -> None:
        with self.lock:
            self._failing = times

    def down(self) -> None:
        with self.lock:
            self._down = True

    def up(self) -> None:
        with self.lock:
            self._down = False
            self._failing = 0

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        """The status and text the receiver answers a request with, recording it when accepted."""
        with self.lock:
            if self._down or self._failing > 0:
                self._failing = max(0, self._failing - 1)
                return 503, "receiver unavailable, try again later"
        refusal = self.check(headers, body)
        if refusal is not None:
            with self.lock:
                self._refusals.append(refusal)
            return refusal
        delivery = Delivery(path, headers, json.loads(body))
        key = headers.get("idempotency-key", "")
        with self.lock:
            self.overlaps += self._in_flight[key] > 0
            self._in_flight[key] += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        with self.lock:
            self._in_flight[key] -= 1
            self._deliveries.append(delivery)
        return 200, "ok"

    def check(self, headers: dict[str, str], body: bytes) -> tuple[int, str] | None:
        """Why the request is refused (401 and a reason), or None: what docs/webhooks.md asks of a receiver."""
        if self.token is not None and not hmac.compare_digest(
            headers.get("authorization", ""), f"Bearer {self.token}"
        ):  # fmt: skip
            return 401, "missing or wrong bearer token"
        if self.secret is None:
            return None
        stamp = headers.get("x-dispatch-timestamp", "")
        if not stamp.isdigit():
            return 401, "no timestamp"
        if abs(self.now().timestamp() - int(stamp)) > REPLAY_WINDOW_S:
            return 401, "timestamp outside the 300 s window: a replay?"
        expected = "sha256=" + hmac.new(self.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("x-dispatch-signature", ""), expected):
            return 401, "bad signature"
        return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive: the sender's client reuses its connection
    timeout = 5  # an idle kept-alive connection is closed after this, so that stopping never waits long

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, the client's delayed ACK holds the body
        # back 40 ms on every request of a kept-alive connection.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if len(body) < length:  # the sender died while writing it: an incomplete request is no request
            self.close_connection = True
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, text = self.server.receiver.answer(self.path, headers, body)
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a client's kept-alive connection must not hold up stopping
    receiver: WebhookReceiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a sender killed mid-request: not news
            super().handle_error(request, client_address)
