"""Telling the customer, benchmarked (issue 15): `dispatch notify run --once` draining a queued outbox.

Target: 10,000 queued messages drained to a local receiver at >= 500 messages/s, the sender's peak memory
under 200 MB.

The store: a fresh SQLite file made through the product (schema upgrade, an import of a few technicians,
customers and requests), then N notices written through the real outbox (``outbox.write``) over the
requests, every kind, in one commit. With ``channels = []`` each notice gives exactly one delivery: the
office's signed webhook. The receiver runs in its own process (it must not share the sender's GIL): an
HTTP/1.1 keep-alive server that verifies each request's HMAC-SHA256 signature and timestamp as
docs/webhooks.md says, and counts accepted messages, distinct idempotency keys and repeats. The sender is
the real command in its own process (``python -m cli --db <store> notify run --once --json``, the real
clock); its wall time runs from start to exit and its peak RSS comes from ``os.wait4``. The send phase is
the receiver's first to last accepted request. A second configuration runs two senders at once over a
copy of the same store: their claims must keep any key from being sent twice.

    .venv/bin/python bench/notify_bench.py [--messages 10000] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import multiprocessing
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
ROOT = Path(__file__).resolve().parents[1]

ZONE = "Europe/Paris"
TARGET_RATE = 500.0  # messages/s
TARGET_PEAK_MB = 200.0
SECRET = "bench-webhook-secret"
REPLAY_WINDOW_S = 300  # docs/webhooks.md: a timestamp further than this from the receiver's clock is refused
CUSTOMERS = 20
REQUESTS = 200
TECHNICIANS = """ref,name,skills,home_lat,home_lon,shift_start,shift_end,break_start,break_minutes,hourly_cost
T1,Ana Silva,boiler;plumbing,45.7600,4.8400,08:00,17:00,12:00,30,42.50
T2,Ben Okafor,plumbing;boiler,45.7800,4.8700,07:00,15:30,,,38.00
T3,Chloé Martin,boiler,45.7500,4.8300,08:00,16:00,12:00,45,40.00
"""  # fmt: skip


def customers_csv() -> str:
    rows = [f"C{i},Customer {i},{i} Rue de la République,{45.74 + i * 0.001:.4f},{4.83 + i * 0.001:.4f},"
            f"+33 6 12 34 {i // 10:02d} {i % 10:02d},c{i}@example.test," for i in range(1, CUSTOMERS + 1)]  # fmt: skip
    return "ref,name,address,lat,lon,phone,email,contract\n" + "\n".join(rows) + "\n"


def requests_csv(day: date) -> str:
    rows = []
    for i in range(1, REQUESTS + 1):
        start = 8 + i % 8
        d = (day + timedelta(days=i % 5)).isoformat()
        rows.append(f"R{i},C{1 + i % CUSTOMERS},{('boiler', 'plumbing')[i % 2]},60,{1 + i % 4},{d}T{start:02d}:00,"
                    f"{d}T{start + 2:02d}:00,,Request {i},phone")  # fmt: skip
    return "ref,customer_ref,skill,duration_min,priority,window_start,window_end,due_by,description,source\n" + (
        "\n".join(rows) + "\n"
    )


def build_store(db: Path, messages: int) -> None:
    """The store with ``messages`` notices queued in the outbox, none routed yet."""
    from zoneinfo import ZoneInfo

    from sqlmodel import Session, col, select

    from dispatch_tui.domain import NoticeKind
    from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
    from dispatch_tui.services.notify import outbox
    from dispatch_tui.store import make_engine
    from dispatch_tui.store.models import Job
    from dispatch_tui.store.schema import upgrade

    engine = make_engine(db)
    upgrade(engine)
    day = date.today() + timedelta(days=7)  # visits ahead, whatever the day the bench runs
    for what, content in ((ImportKind.TECHNICIANS, TECHNICIANS), (ImportKind.CUSTOMERS, customers_csv()),
                          (ImportKind.REQUESTS, requests_csv(day))):  # fmt: skip
        import_data(engine, what, content.encode(), FileFormat.CSV, zone=ZoneInfo(ZONE), working_days=[0, 1, 2, 3, 4],
                    actor="bench")  # fmt: skip
    kinds = list(NoticeKind)
    with Session(engine) as session:
        jobs = list(session.exec(select(Job).order_by(col(Job.id))))
        for i in range(messages):
            job = jobs[i % len(jobs)]
            kind = kinds[(i // len(jobs)) % len(kinds)]
            version = i // (len(jobs) * len(kinds)) + 1  # (job, kind, version) is unique, as the outbox needs
            extra: dict[str, Any] = {}
            if kind in (NoticeKind.EN_ROUTE, NoticeKind.RUNNING_LATE):
                extra["eta"] = job.window_start + timedelta(minutes=20)
            elif kind == NoticeKind.FOLLOW_UP:
                extra["of_job_ref"] = jobs[(i + 1) % len(jobs)].ref
            outbox.write(session, job, kind, version, **extra)
        session.commit()
    engine.dispose()


# The receiver, in its own process.


class _Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()  # why -> how many
        self.first_at: float | None = None  # time.monotonic(): system-wide on Linux, comparable across processes
        self.last_at: float | None = None

    def refusal(self, headers: dict[str, str], body: bytes) -> str | None:
        """Why the request is refused, or None: docs/webhooks.md's check, and the body's id is the key."""
        stamp = headers.get("x-dispatch-timestamp", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > REPLAY_WINDOW_S:
            return "timestamp missing or outside the 300 s window"
        expected = "sha256=" + hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("x-dispatch-signature", ""), expected):
            return "bad signature"
        if json.loads(body).get("id") != headers.get("idempotency-key"):
            return "the body's id is not the Idempotency-Key"
        return None

    def take(self, headers: dict[str, str], body: bytes) -> int:
        why = self.refusal(headers, body)
        with self.lock:
            if why is not None:
                self.refused[why] += 1
                return 401
            self.keys[headers.get("idempotency-key", "")] += 1
            now = time.monotonic()
            self.first_at = self.first_at or now
            self.last_at = now
        return 200

    def report(self) -> dict[str, Any]:
        with self.lock:
            accepted = sum(self.keys.values())
            return {"accepted": accepted, "distinct_keys": len(self.keys), "duplicates": accepted - len(self.keys),
                    "refused": sum(self.refused.values()), "refused_why": dict(self.refused),
                    "first_at": self.first_at, "last_at": self.last_at}  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive: the sender's client reuses its connection

    def log_message(self, format: str, *args: object) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this the client's delayed ACK holds every answer 40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = self.server.tally.take({name.lower(): value for name, value in self.headers.items()}, body)
        answer = b"ok" if status == 200 else b"refused"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    tally: _Tally


def receive(pipe: Connection) -> None:
    """The receiver process: sends its port, serves until asked for its counts, sends them and ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.tally = _Tally()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    pipe.send(server.server_port)
    pipe.recv()  # "report"
    server.shutdown()
    pipe.send(server.tally.report())
    server.server_close()


# The senders, each the real command in its own process.


@dataclass
class SenderRun:
    exit_code: int
    wall_s: float
    peak_mb: float
    report: dict[str, Any]


def run_senders(db: Path, config: Path, count: int, folder: Path) -> tuple[list[SenderRun], float, float]:
    """``count`` senders started at once; (their runs, when the first started, when the last ended)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DISPATCH_")}  # real clock
    env["DISPATCH_CONFIG"] = str(config)
    command = [sys.executable, "-m", "cli", "--db", str(db), "notify", "run", "--once", "--json"]
    started: dict[int, tuple[float, Path]] = {}
    first = time.monotonic()
    for number in range(count):
        out = folder / f"sender-{number}.json"
        with out.open("wb") as handle:  # a file, not a pipe: a long error list must not block the child
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle)
        started[process.pid] = (time.monotonic(), out)
    runs = []
    for pid, (began, out) in started.items():
        _pid, status, usage = os.wait4(pid, 0)
        ended = time.monotonic()
        text = out.read_text()
        runs.append(SenderRun(os.waitstatus_to_exitcode(status), ended - began, usage.ru_maxrss * 1024 / 1e6,
                              json.loads(text) if text.strip() else {}))  # fmt: skip
    last = time.monotonic()
    return runs, first, last


def sent_in_store(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        count: int = connection.execute("SELECT count(*) FROM delivery WHERE state = 'sent'").fetchone()[0]
    connection.close()
    return count


def drain(store: Path, folder: Path, senders: int, messages: int) -> dict[str, Any]:
    """One configuration: a fresh copy of ``store`` drained by ``senders`` processes to a new receiver."""
    db = folder / f"drain-{senders}.db"
    with sqlite3.connect(store) as source, sqlite3.connect(db) as target:
        source.backup(target)
    source.close()
    target.close()
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    receiver = context.Process(target=receive, args=(child,), daemon=True)
    receiver.start()
    port = parent.recv()
    config = folder / f"config-{senders}.toml"
    config.write_text(f'[notify]\nchannels = []\nwebhook_url = "http://127.0.0.1:{port}/hooks/dispatch"\n'
                      f'webhook_secret = "{SECRET}"\n', encoding="utf-8")  # fmt: skip
    runs, first, last = run_senders(db, config, senders, folder)
    parent.send("report")
    got: dict[str, Any] = parent.recv()
    receiver.join(timeout=5)
    wall_s = last - first
    send_s = (got["last_at"] - got["first_at"]) if got["first_at"] is not None else float("nan")
    peak_mb = max(run.peak_mb for run in runs)
    rate = messages / wall_s
    checks = {
        "all_delivered": got["accepted"] == messages and got["distinct_keys"] == messages,
        "no_refused_signature": got["refused"] == 0,
        "no_duplicate": got["duplicates"] == 0,
        "senders_exit_0": all(run.exit_code == 0 for run in runs),
        "senders_report_all_sent": sum(int(run.report.get("sent", 0)) for run in runs) == messages,
        "store_all_sent": sent_in_store(db) == messages,
    }
    return {
        "senders": senders, "wall_s": round(wall_s, 2), "send_s": round(send_s, 2),
        "messages_per_s": round(rate, 1), "send_messages_per_s": round(messages / send_s, 1) if send_s > 0 else None,
        "sender_peak_mb": round(peak_mb, 1), "sender_wall_s": [round(run.wall_s, 2) for run in runs],
        "sent_by_sender": [run.report.get("sent") for run in runs],
        "accepted": got["accepted"], "distinct_keys": got["distinct_keys"], "duplicates": got["duplicates"],
        "refused": got["refused"], "refused_why": got["refused_why"], "checks": checks,
        "met": rate >= TARGET_RATE and peak_mb < TARGET_PEAK_MB,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="notify-bench-"))
    store = folder / "queued.db"
    started = time.perf_counter()
    build_store(store, args.messages)
    setup_s = time.perf_counter() - started
    configurations = [drain(store, folder, senders, args.messages) for senders in (1, 2)]
    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "messages": args.messages, "setup_s": round(setup_s, 1),
        "target": {"messages_per_s": TARGET_RATE, "sender_peak_mb": TARGET_PEAK_MB},
        "configurations": configurations,
    }  # fmt: skip
    failed = [f"{c['senders']} sender(s): {name}" for c in configurations for name, ok in c["checks"].items() if not ok]
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}")
        print(f"{args.messages:,} queued messages (webhook only, signed); store built in {setup_s:.1f} s")
        print(f"{'senders':>7}{'wall s':>9}{'msg/s':>9}{'send s':>9}{'send msg/s':>12}{'peak MB':>9}"
              f"{'received':>10}{'keys':>8}{'dups':>6}{'refused':>9}  target")  # fmt: skip
        for c in configurations:
            print(f"{c['senders']:>7}{c['wall_s']:>9}{c['messages_per_s']:>9}{c['send_s']:>9}"
                  f"{c['send_messages_per_s']:>12}{c['sender_peak_mb']:>9}{c['accepted']:>10}{c['distinct_keys']:>8}"
                  f"{c['duplicates']:>6}{c['refused']:>9}  {'met' if c['met'] else 'MISSED'}")  # fmt: skip
        print(f"target: >= {TARGET_RATE:g} messages/s over the whole run (start to exit), peak RSS < "
              f"{TARGET_PEAK_MB:g} MB per sender")  # fmt: skip
        for line in failed:
            print(f"CHECK FAILED: {line}")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
