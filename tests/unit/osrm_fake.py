"""A small OSRM-compatible ``/table`` server on 127.0.0.1 for the travel tests, and an in-memory cache.

The server's driving times come from the straight-line distance at 50 km/h, plus 90 s going north (so
that a matrix read the wrong way round shows), rounded to 0.1 s as OSRM does: expected minutes are
``ceil(seconds / 60)`` of the same function. A test switches on the misbehaviour it needs.
"""

from __future__ import annotations

import json
import math
import random
import socket
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from dispatch_tui.travel.haversine import haversine_km
from dispatch_tui.travel.model import Point, cache_key
from dispatch_tui.travel.osrm import MAX_TABLE


def server_seconds(a: Point, b: Point) -> float:
    if a == b:
        return 0.0
    seconds = haversine_km(*a, *b) / 50.0 * 3600 + (90.0 if a[0] < b[0] else 0.0)
    return round(seconds, 1)


def expected(points: Sequence[Point]) -> list[list[int]]:
    keys = [cache_key(p) for p in points]
    return [[math.ceil(round(server_seconds(a, b) / 60, 6)) for b in keys] for a in keys]


def spread(n: int, seed: int = 1) -> list[Point]:
    """``n`` distinct places within about 30 km, at 5 decimals."""
    rng = random.Random(seed)
    points: dict[Point, None] = {}
    while len(points) < n:
        points[(round(45.6 + rng.random() * 0.3, 5), round(4.7 + rng.random() * 0.3, 5))] = None
    return list(points)


@dataclass
class TableRequest:
    coordinates: list[Point]  # (lat, lon), as the server read them
    sources: list[int]
    destinations: list[int]
    raw: str

    def pairs(self) -> set[tuple[Point, Point]]:
        return {
            (self.coordinates[s], self.coordinates[d])
            for s in self.sources
            for d in self.destinations
            if self.coordinates[s] != self.coordinates[d]
        }


@dataclass
class FakeOsrm:
    url: str = ""
    hits: int = 0  # every HTTP request, answered or not
    requests: list[TableRequest] = field(default_factory=list)  # the table requests answered "Ok"
    fail_first: int = 0  # answer 503 to this many requests first
    delay_s: float = 0.0  # wait this long before answering
    invalid: bool = False  # answer 400 InvalidQuery
    no_route: set[tuple[Point, Point]] = field(default_factory=set)  # null durations for these pairs
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def requested_pairs(self) -> set[tuple[Point, Point]]:
        return set().union(*(r.pairs() for r in self.requests))


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timeout test)
            pass

    def do_GET(self) -> None:
        fake = self.server.fake
        with fake.lock:
            fake.hits += 1
            hit = fake.hits
        if fake.delay_s and (fake.stop.wait(fake.delay_s) or fake.stop.is_set()):
            return
        if hit <= fake.fail_first:
            self._send(503, b"upstream overloaded")
            return
        if fake.invalid:
            self._send(400, {"code": "InvalidQuery", "message": "Query string malformed close to position 28"})
            return
        parts = urlsplit(self.path)
        prefix = "/table/v1/driving/"
        if not parts.path.startswith(prefix):
            self._send(400, {"code": "InvalidUrl", "message": f"URL string malformed: {parts.path}"})
            return
        coordinates = []
        for item in parts.path.removeprefix(prefix).split(";"):
            lon, lat = item.split(",")
            coordinates.append((float(lat), float(lon)))
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        everything = list(range(len(coordinates)))
        sources = [int(s) for s in query["sources"].split(";")] if "sources" in query else everything
        destinations = [int(d) for d in query["destinations"].split(";")] if "destinations" in query else everything
        if query.get("annotations") != "duration" or len(sources) * len(destinations) > MAX_TABLE * MAX_TABLE:
            self._send(400, {"code": "TooBig", "message": "Too many table coordinates"})
            return
        durations = [
            [
                None
                if (coordinates[s], coordinates[d]) in fake.no_route
                else server_seconds(coordinates[s], coordinates[d])
                for d in destinations
            ]
            for s in sources
        ]
        with fake.lock:
            fake.requests.append(TableRequest(coordinates, sources, destinations, self.path))
        self._send(200, {"code": "Ok", "durations": durations})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOsrm


class DictCache:
    """A MatrixCache in memory that records what it was asked."""

    def __init__(self) -> None:
        self.entries: dict[tuple[Point, Point], int] = {}
        self.puts: list[dict[tuple[Point, Point], int]] = []

    def get_many(self, pairs: Collection[tuple[Point, Point]]) -> dict[tuple[Point, Point], int]:
        return {pair: self.entries[pair] for pair in pairs if pair in self.entries}

    def put_many(self, entries: Mapping[tuple[Point, Point], int]) -> None:
        self.puts.append(dict(entries))
        self.entries.update(entries)


@contextmanager
def fake_osrm() -> Iterator[FakeOsrm]:
    """The server, running in a daemon thread until the block ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake = FakeOsrm(url=f"http://127.0.0.1:{server.server_port}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nobody listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
