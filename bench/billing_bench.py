"""Billing export benchmark: `dispatch export billing` of N completed visits, whole process, wall time and peak RSS.

Target (issue 6): 100,000 completed jobs exported in <= 10 s and <= 300 MB. Measured as a user runs it:
the installed command in its own process (start-up, settings, store check, the queries, the amounts,
writing the file and marking every job exported, committed), its ``ru_maxrss`` read with ``wait4`` so that
it is that process's peak alone. Each run exports a fresh copy of the seeded store, so every job is due.

The seeded store (untimed, raw ``sqlite3`` after the real migrations): 50 technicians, 2,000 customers on
five contracts, 100,000 jobs over 20 working days, each completed with its whole audit trail (new,
scheduled, dispatched, en_route, on_site, completed: 600,000 events), an appointment, a part on a third
of them, and a rate card with contract, skill and default lines.

    .venv/bin/python bench/billing_bench.py [--jobs 100000] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ZONE = "Europe/Paris"
TARGET_S = 10.0
TARGET_MB = 300
STAMP = "%Y-%m-%d %H:%M:%S.%f"  # how UTCDateTime stores a datetime in SQLite (naive UTC text)
FIRST_DAY = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
SKILLS = ("boiler", "hvac", "plumbing", "electrical", "appliance")
CONTRACTS = (None, "gold", "silver", "care", "fleet")
DISPATCH = Path(sys.executable).with_name("dispatch")


def stamp(value: datetime) -> str:
    return value.strftime(STAMP)


def seed(db: Path, jobs: int) -> None:
    """A store of ``jobs`` completed visits with their audit trails (untimed)."""
    subprocess.run([sys.executable, "-c", f"from dispatch_tui.store import make_engine, upgrade; "
                    f"upgrade(make_engine({str(db)!r}))"], check=True)  # fmt: skip
    rng = random.Random(7)
    con = sqlite3.connect(db)
    con.execute("BEGIN")
    con.executemany("INSERT INTO skill (id, name) VALUES (?, ?)", list(enumerate(SKILLS, start=1)))
    con.executemany(
        "INSERT INTO technician (id, ref, name, home_lat, home_lon, hourly_cost_cents, phone, email, active) "
        "VALUES (?, ?, ?, 45.75, 4.85, 4000, '', '', 1)",
        [(t, f"T{t:03d}", f"Technician {t}") for t in range(1, 51)],
    )
    customers = 2_000
    con.executemany(
        "INSERT INTO customer (id, ref, name, phone, email, contract) VALUES (?, ?, ?, '', '', ?)",
        [(c, f"C{c:05d}", f"Customer {c}", CONTRACTS[c % len(CONTRACTS)]) for c in range(1, customers + 1)],
    )
    con.executemany(
        "INSERT INTO site (id, customer_id, address, lat, lon, is_primary) VALUES (?, ?, '', 45.7, 4.8, 1)",
        [(c, c) for c in range(1, customers + 1)],
    )
    con.executemany(
        "INSERT INTO rate (contract, skill, hourly_rate_cents, callout_fee_cents, labor_covered) VALUES (?,?,?,?,?)",
        [("none", "*", 6000, 2500, False), ("none", "plumbing", 8000, 3000, False), ("gold", "*", 5000, 0, False),
         ("gold", "hvac", 4550, 1000, False), ("silver", "*", 5500, 1500, False), ("care", "*", 7000, 2000, True),
         ("fleet", "electrical", 6500, 0, False), ("fleet", "*", 6200, 0, False)],
    )  # fmt: skip
    con.executemany(
        "INSERT INTO part (id, sku, name, unit_price_cents) VALUES (?, ?, ?, ?)",
        [(p, f"P{p:03d}", f"Part {p}", 100 + 37 * p) for p in range(1, 201)],
    )
    job_rows, appointments, events, parts = [], [], [], []
    for j in range(1, jobs + 1):
        day = FIRST_DAY + timedelta(days=(j % 20) // 5 * 7 + (j % 20) % 5)  # 20 weekdays
        start = day + timedelta(hours=7, minutes=rng.randrange(0, 540))
        work = timedelta(minutes=rng.randrange(1, 180), seconds=rng.randrange(60))
        drive = timedelta(minutes=rng.randrange(5, 40))
        created = day - timedelta(days=1, hours=rng.randrange(0, 12))
        customer = rng.randrange(1, customers + 1)
        job_rows.append((j, f"J{j:06d}", customer, customer, rng.randrange(1, 6), 60, 3, stamp(start - drive),
                         stamp(start + timedelta(hours=2)), "phone", "completed", stamp(created),
                         stamp(start + work), 7))  # fmt: skip
        appointments.append((j, rng.randrange(1, 51), stamp(start), stamp(start + timedelta(hours=1)), 10))
        for frm, to, at in ((None, "new", created), ("new", "scheduled", created + timedelta(hours=1)),
                            ("scheduled", "dispatched", start - drive - timedelta(minutes=15)),
                            ("dispatched", "en_route", start - drive), ("en_route", "on_site", start),
                            ("on_site", "completed", start + work)):  # fmt: skip
            events.append((j, "bench", stamp(at), frm, to))
        if j % 3 == 0:
            part = rng.randrange(1, 201)
            parts.append((j, part, rng.randrange(1, 4), 100 + 37 * part))
    con.executemany(
        "INSERT INTO job (id, ref, customer_id, site_id, skill_id, duration_min, priority, window_start, window_end, "
        "source, status, created_at, updated_at, version, description) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,'')",
        job_rows,
    )
    con.executemany(
        'INSERT INTO appointment (job_id, technician_id, start, "end", travel_minutes, locked, origin) '
        "VALUES (?, ?, ?, ?, ?, 0, 'dispatcher')",
        appointments,
    )
    con.executemany(
        "INSERT INTO jobevent (job_id, actor, at, from_status, to_status, note) VALUES (?, ?, ?, ?, ?, '')", events
    )
    con.executemany("INSERT INTO jobpart (job_id, part_id, quantity, unit_price_cents) VALUES (?,?,?,?)", parts)
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def run_export(db: Path, out: Path, fmt: str, *extra: str) -> dict[str, Any]:
    """One whole `dispatch export billing` process: wall seconds and its own peak RSS."""
    command = [str(DISPATCH), "--db", str(db), "--timezone", ZONE, "export", "billing", "--from", "2026-03-01",
               "--to", "2026-03-31", "--format", fmt, "-o", str(out), *extra]  # fmt: skip
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"export failed: {stderr}")
    return {"seconds": seconds, "peak_mib": usage.ru_maxrss / 1024, "message": stderr.strip().splitlines()[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default="csv,json,xlsx")
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    args = parser.parse_args()
    formats = args.formats.split(",")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in [*formats, "skip", "repeat"]}
    with tempfile.TemporaryDirectory(prefix="billing-bench-") as tmp:
        folder = Path(tmp)
        seeded = folder / "seed.db"
        started = time.perf_counter()
        seed(seeded, args.jobs)
        print(f"seeded {args.jobs:,} completed jobs in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        for k in range(args.repeat):
            for fmt in formats:
                db = folder / f"run-{fmt}.db"
                shutil.copyfile(seeded, db)
                runs[fmt].append(run_export(db, folder / f"billing.{fmt}", fmt))
                if fmt == "csv":
                    lines = sum(1 for _ in (folder / "billing.csv").open()) - 1
                    assert lines == args.jobs, lines
                    runs["skip"].append(run_export(db, folder / "again.csv", "csv"))  # all exported: nothing to do
                    runs["repeat"].append(run_export(db, folder / "again.csv", "csv", "--include-exported"))
                db.unlink()
            done = ", ".join(f"{name} {r[-1]['seconds']:.2f} s" for name, r in runs.items() if r)
            print(f"repeat {k + 1}/{args.repeat}: {done}", file=sys.stderr)
    result = {
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(), "sqlite": sqlite3.sqlite_version},
        "jobs": args.jobs,
        "runs": {
            name: {
                "seconds_median": statistics.median(r["seconds"] for r in rs),
                "peak_mib_max": max(r["peak_mib"] for r in rs),
                "message": rs[-1]["message"],
            }
            for name, rs in runs.items()
            if rs
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.jobs:,} completed jobs; target <= {TARGET_S:g} s and <= {TARGET_MB} MB (whole process)")
    for name, figures in result["runs"].items():
        met = figures["seconds_median"] <= TARGET_S and figures["peak_mib_max"] * 1.048576 <= TARGET_MB
        print(f"  {name:>6}: {figures['seconds_median']:6.2f} s median, {figures['peak_mib_max']:6.1f} MiB peak, "
              f"{'met' if met else 'NOT met'} — {figures['message']}")  # fmt: skip


if __name__ == "__main__":
    main()
