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
import gc
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
NOW = datetime(2026, 11, 30, 12, tzinfo=ZONE)  # the clock the whole bench runs under: noon the day before
TARGETS = {"candidates_ms": 50.0, "candidates_frozen_gc_ms": 50.0, "cli_ms": 400.0, "move_check_ms": 5.0}


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--technicians", type=int, default=200)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--minutes", type=int, default=30, help="duration of every job: ten a day per technician")
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--cli-calls", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from sqlalchemy import func, select
    from sqlmodel import Session, col

    from dispatch_tui import clock
    from dispatch_tui.config import Settings
    from dispatch_tui.services.intake.demo import build_demo
    from dispatch_tui.services.intake.demo_data import DemoSpec, generate_demo
    from dispatch_tui.services.planning.assignment import _check
    from dispatch_tui.services.planning.candidates import rank_candidates
    from dispatch_tui.services.travel import point_travel
    from dispatch_tui.store import make_engine, upgrade
    from dispatch_tui.store.models import Appointment, Job, Technician

    clock.use(clock.Clock.at(NOW, frozen=True))  # the day is ahead whatever the calendar says
    folder = Path(tempfile.mkdtemp(prefix="dispatch-bench-"))
    db = folder / "bench.db"
    engine = make_engine(db)
    upgrade(engine)
    started = time.perf_counter()
    # "now" before the day starts: everything planned stays scheduled.
    travel = point_travel(Settings(db=str(db), timezone="Europe/Paris"), engine)  # as the CLI does
    spec = DemoSpec(day=DAY, technicians=args.technicians, requests=args.requests)
    data = generate_demo(spec)
    for request in data.requests:
        request["duration_min"] = str(args.minutes)
    build_demo(engine, spec, ZONE, now=NOW, data=data)
    setup_s = time.perf_counter() - started
    with Session(engine) as session:
        scheduled = session.scalar(select(func.count()).select_from(Appointment))
        waiting = list(session.scalars(select(col(Job.ref)).where(col(Job.status) == "new").order_by(Job.ref)))
        planned = session.execute(
            select(Job, Technician).join(Appointment, col(Appointment.job_id) == Job.id)
            .join(Technician, col(Appointment.technician_id) == Technician.id).order_by(Job.ref).limit(args.calls)
        ).all()  # fmt: skip

    def time_candidates() -> list[float]:
        times = []
        with Session(engine) as session:
            rank_candidates(session, waiting[0], zone=ZONE, travel=travel)  # warm-up
            for i in range(args.calls):
                t = time.perf_counter()
                rank_candidates(session, waiting[i % len(waiting)], zone=ZONE, travel=travel)
                times.append((time.perf_counter() - t) * 1000)
        return times

    in_process = time_candidates()
    # A long-running console freezes what it loaded at start-up, so full collections (the p95 spikes,
    # ~35 ms each over every long-lived SQLAlchemy object) stop traversing it.
    gc.collect()
    gc.freeze()
    in_process_frozen = time_candidates()
    gc.unfreeze()

    move_checks = []
    with Session(engine) as session:
        for job, tech in planned:
            appointment = session.scalar(select(Appointment).where(Appointment.job_id == job.id))
            assert appointment is not None  # the job was selected through its appointment
            t = time.perf_counter()
            _check(session, job, tech, appointment.start, ZONE, travel)
            move_checks.append((time.perf_counter() - t) * 1000)

    dispatch = str(Path(sys.executable).with_name("dispatch"))
    env = {
        **os.environ,
        "DISPATCH_TIMEZONE": "Europe/Paris",
        "DISPATCH_NOW": NOW.isoformat(),
        "DISPATCH_NOW_FROZEN": "1",
    }
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
        "candidates_frozen_gc_ms": {
            "p50": round(statistics.median(in_process_frozen), 1), "p95": round(p95(in_process_frozen), 1),
        },
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
        ("candidates_frozen_gc_ms", "  the same after gc.freeze() (ms)"),
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
