"""Taking a call, benchmarked (issue 14's targets): the times offered to a customer.

Five working days of a 200-technician team with about 2,000 planned visits over them, built by the real
import path and the demo's planner (one demo day after another, each with its own requests, absences and
plan), then ``offer_slots`` — the windows of ``dispatch slots JOB`` over the 5 days — for waiting requests
without a due time, in process and warm: p50 / p95 over many calls (target p95 <= 150 ms).

    .venv/bin/python bench/booking_bench.py [--technicians 200] [--visits 2000] [--calls 40] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Paris")
FIRST = date(2026, 11, 30)  # a Monday: five working days, Monday to Friday
NOW = datetime(2026, 11, 30, 7, tzinfo=ZONE)  # before the first day's work begins: all five days are ahead
DAYS = 5
TARGETS = {"slots_ms": 150.0}
PLANNED_SHARE = 0.7  # the demo plans about this share of a day's requests


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--technicians", type=int, default=200)
    parser.add_argument("--visits", type=int, default=2000, help="planned visits over the five days (about)")
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from sqlalchemy import func, select
    from sqlmodel import Session, col

    from dispatch_tui import clock
    from dispatch_tui.config import Settings
    from dispatch_tui.services.intake.demo import build_demo
    from dispatch_tui.services.intake.demo_data import DemoSpec, generate_demo
    from dispatch_tui.services.planning.slots import offer_slots
    from dispatch_tui.services.travel import point_travel
    from dispatch_tui.store import make_engine, upgrade
    from dispatch_tui.store.models import Appointment, Job

    clock.use(clock.Clock.at(NOW, frozen=True))  # the days are ahead whatever the calendar says
    folder = Path(tempfile.mkdtemp(prefix="dispatch-bench-"))
    db = folder / "bench.db"
    engine = make_engine(db)
    upgrade(engine)
    started = time.perf_counter()
    travel = point_travel(Settings(db=str(db), timezone="Europe/Paris"), engine)  # as the CLI does
    per_day = round(args.visits / DAYS / PLANNED_SHARE)
    for offset in range(DAYS):
        spec = DemoSpec(day=FIRST + timedelta(days=offset), technicians=args.technicians, requests=per_day)
        data = generate_demo(spec)  # the same team and customers each day (same seed): imported unchanged
        for request in data.requests:
            request["ref"] = f"D{offset}{request['ref']}"  # each day's own requests
        build_demo(engine, spec, ZONE, now=NOW, data=data)
    setup_s = time.perf_counter() - started
    with Session(engine) as session:
        planned = session.scalar(select(func.count()).select_from(Appointment)) or 0
        waiting = list(
            session.scalars(
                select(col(Job.ref)).where(col(Job.status) == "new", col(Job.due_by).is_(None)).order_by(Job.ref)
            )
        )
    assert waiting, "the demo leaves requests waiting"

    times, offered = [], []
    with Session(engine) as session:
        offer_slots(session, waiting[0], zone=ZONE, travel=travel, now=NOW, days=DAYS)  # warm-up
        for i in range(args.calls):
            ref = waiting[(i * 7919) % len(waiting)]  # spread over the days and skills
            t = time.perf_counter()
            offer = offer_slots(session, ref, zone=ZONE, travel=travel, now=NOW, days=DAYS)
            times.append((time.perf_counter() - t) * 1000)
            offered.append(len(offer.slots))

    result = {
        "technicians": args.technicians, "days": DAYS, "planned_visits": planned, "waiting_jobs": len(waiting),
        "setup_s": round(setup_s, 1),
        "slots_ms": {"p50": round(statistics.median(times), 1), "p95": round(p95(times), 1)},
        "windows_offered": {"p50": statistics.median(offered), "min": min(offered), "max": max(offered)},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.technicians} technicians, {DAYS} days, {planned} planned visits, {len(waiting)} waiting without "
          f"a due time; setup {setup_s:.1f} s; {os.cpu_count()} CPUs, Python {platform.python_version()}")  # fmt: skip
    print(f"windows offered per call: median {result['windows_offered']['p50']}, "
          f"{min(offered)}-{max(offered)}")  # fmt: skip
    print(f"{'measure':44}{'p50':>9}{'p95':>9}{'target':>9}  met?")
    figures = result["slots_ms"]
    assert isinstance(figures, dict)
    met = "yes" if figures["p95"] <= TARGETS["slots_ms"] else "NO"
    print(f"{'times offered over 5 days, in process (ms)':44}{figures['p50']:>9}{figures['p95']:>9}"
          f"{TARGETS['slots_ms']:>9}  {met}")  # fmt: skip


if __name__ == "__main__":
    main()
