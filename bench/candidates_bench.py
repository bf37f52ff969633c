"""Candidates and feasibility benchmark (the scheduling-core issue's targets).

A demo day with 200 technicians and about 2,000 scheduled jobs (the demo generator and its greedy
planner), then:
- ``rank_candidates`` for unplanned jobs, in process and warm: p50 / p95 over many calls (target p95 <= 50 ms);
- the same as a whole ``dispatch candidates JOB --json`` process (target p95 <= 400 ms);
- the feasibility check of one manual move (load that technician's day + the rules): p95 (target <= 5 ms).

    .venv/bin/python bench/candidates_bench.py [--technicians 200] [--requests 2900] [--calls 60] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Paris")
DAY = date(2026, 12, 1)
TARGETS = {"candidates_ms": 50.0, "cli_ms": 400.0, "move_check_ms": 5.0}


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--technicians", type=int, default=200)
    parser.add_argument("--requests", type=int, default=2900)
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--cli-calls", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from sqlalchemy import func, select
    from sqlmodel import Session

    from dispatch_tui.services.assignment import _check
    from dispatch_tui.services.candidates import rank_candidates
    from dispatch_tui.services.demo import build_demo
    from dispatch_tui.services.demo_data import DemoSpec
    from dispatch_tui.store import make_engine, upgrade
    from dispatch_tui.store.models import Appointment, Job, Technician
    from dispatch_tui.travel.haversine import travel_minutes

    def travel(a: tuple[float, float], b: tuple[float, float]) -> int:
        return travel_minutes(a[0], a[1], b[0], b[1])

    folder = Path(tempfile.mkdtemp(prefix="dispatch-bench-"))
    db = folder / "bench.db"
    engine = make_engine(db)
    upgrade(engine)
    started = time.perf_counter()
    # "now" before the day starts: everything planned stays scheduled.
    build_demo(engine, DemoSpec(day=DAY, technicians=args.technicians, requests=args.requests), ZONE,
               now=datetime(2026, 11, 30, 12, tzinfo=ZONE))  # fmt: skip
    setup_s = time.perf_counter() - started
    with Session(engine) as session:
        scheduled = session.scalar(select(func.count()).select_from(Appointment))
        waiting = list(session.scalars(select(Job.ref).where(Job.status == "new").order_by(Job.ref)))
        planned = session.execute(
            select(Job, Technician).join(Appointment, Appointment.job_id == Job.id)
            .join(Technician, Appointment.technician_id == Technician.id).order_by(Job.ref).limit(args.calls)
        ).all()  # fmt: skip

    in_process = []
    with Session(engine) as session:
        rank_candidates(session, waiting[0], zone=ZONE, travel=travel)  # warm-up
        for i in range(args.calls):
            ref = waiting[i % len(waiting)]
            t = time.perf_counter()
            rank_candidates(session, ref, zone=ZONE, travel=travel)
            in_process.append((time.perf_counter() - t) * 1000)

    move_checks = []
    with Session(engine) as session:
        for job, tech in planned:
            appointment = session.scalar(select(Appointment).where(Appointment.job_id == job.id))
            t = time.perf_counter()
            _check(session, job, tech, appointment.start, ZONE, travel)
            move_checks.append((time.perf_counter() - t) * 1000)

    dispatch = str(Path(sys.executable).with_name("dispatch"))
    env = {**os.environ, "DISPATCH_TIMEZONE": "Europe/Paris"}
    cli = []
    for i in range(args.cli_calls):
        t = time.perf_counter()
        done = subprocess.run([dispatch, "--db", str(db), "candidates", waiting[i % len(waiting)], "--json"],
                              capture_output=True, env=env, check=False)  # fmt: skip
        cli.append((time.perf_counter() - t) * 1000)
        assert done.returncode == 0, done.stderr.decode()[-500:]
    help_times = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([dispatch, "--help"], capture_output=True, env=env, check=True)
        help_times.append((time.perf_counter() - t) * 1000)

    result = {
        "technicians": args.technicians, "scheduled_jobs": scheduled, "waiting_jobs": len(waiting),
        "setup_s": round(setup_s, 1),
        "candidates_ms": {"p50": round(statistics.median(in_process), 1), "p95": round(p95(in_process), 1)},
        "cli_ms": {"p50": round(statistics.median(cli), 1), "p95": round(p95(cli), 1)},
        "cli_help_ms": round(statistics.median(help_times), 1),
        "move_check_ms": {"p50": round(statistics.median(move_checks), 2), "p95": round(p95(move_checks), 2)},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.technicians} technicians, {scheduled} scheduled jobs, {len(waiting)} waiting; "
          f"setup {setup_s:.1f} s; {os.cpu_count()} CPUs, Python {platform.python_version()}")  # fmt: skip
    print(f"{'measure':44}{'p50':>9}{'p95':>9}{'target':>9}  met?")
    rows = (
        ("candidates_ms", "candidates, in process, warm (ms)"),
        ("cli_ms", "dispatch candidates, whole call (ms)"),
        ("move_check_ms", "feasibility of one move (ms)"),
    )
    for key, label in rows:
        figures = result[key]
        assert isinstance(figures, dict)
        met = "yes" if figures["p95"] <= TARGETS[key] else "NO"
        print(f"{label:44}{figures['p50']:>9}{figures['p95']:>9}{TARGETS[key]:>9}  {met}")
    print(f"{'dispatch --help, whole call (ms)':44}{result['cli_help_ms']:>9}")


if __name__ == "__main__":
    main()
