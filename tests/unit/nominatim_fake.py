"""A small Nominatim-compatible ``/search`` server on 127.0.0.1 for the geocoder tests.

It knows the addresses it is given (the ``q`` text exactly as sent) and answers Nominatim's jsonv2 array,
best first; an address it does not know gets ``[]``. Every request is recorded, so that a test counts
what was asked and sees how.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Asked:
    path: str
    params: dict[str, str]
    user_agent: str


@dataclass
class FakeNominatim:
    url: str = ""
    places: dict[str, tuple[float, float, str]] = field(default_factory=dict)  # q → lat, lon, display name
    requests: list[Asked] = field(default_factory=list)
    status: int = 200  # answer this status (and a text body) instead, when not 200
    body: bytes | None = None  # answer this body instead of the places' JSON
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _send(self, status: int, data: bytes, kind: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (the timeout test)
            pass

    def do_GET(self) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        params = {key: values[0] for key, values in parse_qs(parts.query).items()}
        with fake.lock:
            fake.requests.append(Asked(parts.path, params, self.headers.get("User-Agent", "")))
        if fake.delay_s and fake.stop.wait(fake.delay_s):
            return
        if fake.status != 200:
            self._send(fake.status, b"Service Unavailable", "text/plain")
            return
        if fake.body is not None:
            self._send(200, fake.body)
            return
        if parts.path != "/search" or params.get("format") != "jsonv2":
            self._send(400, json.dumps({"error": {"code": 400, "message": "Parameter 'format' wrong"}}).encode())
            return
        found = fake.places.get(params.get("q", ""))
        answer = []
        if found is not None:
            lat, lon, name = found
            answer = [{"place_id": 1, "lat": f"{lat:.7f}", "lon": f"{lon:.7f}", "display_name": name,
                       "category": "place", "type": "house", "importance": 0.3}]  # fmt: skip
        self._send(200, json.dumps(answer).encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeNominatim


@contextmanager
def fake_nominatim(places: dict[str, tuple[float, float, str]] | None = None) -> Iterator[FakeNominatim]:
    """The server, running in a daemon thread until the block ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake = FakeNominatim(url=f"http://127.0.0.1:{server.server_port}", places=dict(places or {}))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)
