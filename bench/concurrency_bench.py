"""Eight dispatchers writing at once: assigns per second and latency, on SQLite and on PostgreSQL.

Each writer is its own process with its own connection and assigns its share of a day's requests through
``services.assignment.assign`` (the same checks and locks as the CLI and the console), one transaction
per assign. Two rounds per store:

- *spread*: each writer books its own technicians: only the store's locking is contended;
- *contended*: every request is attempted by two writers, onto the same technician and start: one wins,
  the other is refused (already scheduled, or an overlap). Expected refusals are counted; any other
  error is reported as an error.

    .venv/bin/python bench/concurrency_bench.py [--writers 8] [--per-writer 40] [--pg URL] [--no-pg]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ZONE = ZoneInfo("Europe/Paris")
DAY = "2026-12-01"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def make_store(url: str, techs: int, jobs: int) -> None:
    from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
    from dispatch_tui.store import make_engine, upgrade

    engine = make_engine(url)
    upgrade(engine)
    technicians = "ref,name,skills,home_lat,home_lon,shift_start,shift_end,hourly_cost\n" + "".join(
        f"T{i:03d},Tech {i},hvac,45.76,4.84,07:00,19:00,40\n" for i in range(techs)
    )
    customers = "ref,name,address,lat,lon\nC1,Claire Dubois,12 Rue Garibaldi,45.7600,4.8400\n"
    requests = "ref,customer_ref,skill,duration_min,priority,window_start,window_end,description,source\n" + "".join(
        f"R{i:05d},C1,hvac,20,2,{DAY}T07:00,{DAY}T18:00,Fan,phone\n" for i in range(jobs)
    )
    for kind, content in ((ImportKind.TECHNICIANS, technicians), (ImportKind.CUSTOMERS, customers),
                          (ImportKind.REQUESTS, requests)):  # fmt: skip
        import_data(engine, kind, content.encode(), FileFormat.CSV, zone=ZONE, working_days=[0, 1, 2, 3, 4])
    engine.dispose()


def writer(url: str, bookings: list[tuple[str, str, str]], gate: Any, results: Any) -> None:
    from sqlalchemy.exc import OperationalError
    from sqlmodel import Session

    from dispatch_tui.config import Settings
    from dispatch_tui.services.errors import Conflict, Refused
    from dispatch_tui.services.planning import assignment
    from dispatch_tui.services.travel import point_travel
    from dispatch_tui.store import make_engine

    engine = make_engine(url)
    travel = point_travel(Settings(db=url, timezone="Europe/Paris"), engine)
    latencies, refused, errors = [], 0, []
    gate.wait()
    started = time.time()  # wall clock: comparable across the writer processes
    for job, tech, start in bookings:
        began = time.perf_counter()
        try:
            with Session(engine) as session:
                assignment.assign(session, job, tech, datetime.fromisoformat(start), zone=ZONE, travel=travel,
                                  actor="bench")  # fmt: skip
                session.commit()
        except (Refused, Conflict):
            refused += 1
        except OperationalError as exc:
            errors.append(str(exc.orig))
        latencies.append(time.perf_counter() - began)
    finished = time.time()
    engine.dispose()
    results.put((latencies, refused, errors, started, finished))


def plan(writers: int, per_writer: int, contended: bool) -> list[list[tuple[str, str, str]]]:
    """Bookings per writer: 20-min visits every 30 min from 07:30, each technician's own sequence."""
    slots = per_writer if not contended else per_writer // 2
    shares: list[list[tuple[str, str, str]]] = [[] for _ in range(writers)]
    job = 0
    for w in range(writers):
        for k in range(slots):
            tech = f"T{(w * slots + k) // 20:03d}"
            start = datetime.fromisoformat(f"{DAY}T07:30").replace(tzinfo=ZONE) + timedelta(minutes=30 * (k % 20))
            booking = (f"R{job:05d}", tech, start.isoformat())
            shares[w].append(booking)
            if contended:  # the same booking from the next writer too
                shares[(w + 1) % writers].append(booking)
            job += 1
    return shares


def run(url: str, writers: int, per_writer: int, contended: bool) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    gate, results = context.Barrier(writers), context.Queue()
    shares = plan(writers, per_writer, contended)
    processes = [context.Process(target=writer, args=(url, share, gate, results)) for share in shares]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=600) for _ in processes]
    wall = max(o[4] for o in outcomes) - min(o[3] for o in outcomes)  # from the gate, not process start-up
    for process in processes:
        process.join()
    latencies = sorted(x for o in outcomes for x in o[0])
    refused = sum(o[1] for o in outcomes)
    errors = [e for o in outcomes for e in o[2]]
    attempts = len(latencies)
    return {
        "attempts": attempts, "assigned": attempts - refused - len(errors), "refused": refused,
        "errors": len(errors), "first_error": errors[0] if errors else "",
        "per_s": (attempts - len(errors)) / wall, "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(0.95 * (attempts - 1))] * 1000, "wall_s": wall,
    }  # fmt: skip


def pg_database(server: str) -> tuple[str, Any]:
    import psycopg

    admin = psycopg.connect(server.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True)
    name = f"dispatch_bench_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}", lambda: admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--per-writer", type=int, default=40)
    parser.add_argument("--pg", default=PG_SERVER, help="PostgreSQL server URL (without database)")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    techs = args.writers * args.per_writer // 20 + 1
    jobs = args.writers * args.per_writer
    print(f"{args.writers} writer processes x {args.per_writer} assigns; {os.cpu_count()} CPUs; one transaction each")
    print(f"{'store':<11}{'round':<11}{'attempts':>9}{'assigned':>9}{'refused':>8}{'errors':>7}{'assigns/s':>10}"
          f"{'p50 ms':>8}{'p95 ms':>8}")  # fmt: skip
    stores: list[tuple[str, str, Any]] = []
    folder = tempfile.mkdtemp(prefix="dispatch-bench-")
    stores.append(("sqlite", f"sqlite:///{folder}/spread.db", None))
    if not args.no_pg:
        stores.append(("postgresql", *pg_database(args.pg)))
    for name, url, drop in stores:
        for contended in (False, True):
            target = url if not contended else (url.replace("spread.db", "contended.db") if name == "sqlite" else url)
            if contended and name == "postgresql":
                drop()
                target, drop = pg_database(args.pg)
            make_store(target, techs, jobs)
            row = run(target, args.writers, args.per_writer, contended)
            round_name = "contended" if contended else "spread"
            counts = f"{row['attempts']:>9}{row['assigned']:>9}{row['refused']:>8}{row['errors']:>7}"
            times = f"{row['per_s']:>10.1f}{row['p50_ms']:>8.1f}{row['p95_ms']:>8.1f}"
            print(f"{name:<11}{round_name:<11}{counts}{times}", flush=True)
            if row["errors"]:
                print(f"  first error: {row['first_error']}")
        if drop is not None:
            drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
