"""Import benchmark: rows/s and peak memory of importing N service requests into a fresh SQLite store.

Target (the import issue): >= 20,000 rows/s and < 300 MiB peak RSS for 100,000 requests. The physical
bound is one raw ``sqlite3`` executemany of the same, already-resolved rows in one transaction; the
ratio import / executemany says how much of the bound the import reaches.

Every measured phase runs in its own child process (this script, re-invoked with ``--child``), so its
``ru_maxrss`` is the peak of that phase alone, Python and module imports included; a child that only
imports the modules gives the baseline. Untimed: generating the demo data, importing technicians and
customers (once, in a child; the seeded store is copied per run), reading the file, parsing rows for the bound.

    .venv/bin/python bench/import_bench.py [--rows 100000] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ZONE = "Europe/Paris"
WORKING_DAYS = [0, 1, 2, 3, 4]
TARGET_ROWS_S = 20_000
TARGET_MIB = 300
STAMP = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's DateTime stores a (naive UTC) datetime in SQLite


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def hwm_mib() -> float:
    """VmHWM, the peak RSS of this process image alone: a cross-check of ru_maxrss (Linux only)."""
    status = Path("/proc/self/status")
    lines = status.read_text().splitlines() if status.exists() else []
    return next((int(line.split()[1]) / 1024 for line in lines if line.startswith("VmHWM:")), float("nan"))


# --- children: each prints one JSON line --------------------------------------------------------------


def child_import(db: Path, folder: Path) -> dict[str, Any]:
    from zoneinfo import ZoneInfo

    from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
    from dispatch_tui.store import make_engine

    data = (folder / "requests.csv").read_bytes()
    engine = make_engine(db)
    with engine.connect():  # dialect set-up and pragmas, outside the timing
        pass
    start = time.perf_counter()
    report = import_data(
        engine, ImportKind.REQUESTS, data, FileFormat.CSV, zone=ZoneInfo(ZONE), working_days=WORKING_DAYS, actor="bench"
    )
    seconds = time.perf_counter() - start
    engine.dispose()
    return {"seconds": seconds, "created": report.created, "updated": report.updated, "unchanged": report.unchanged}


def child_executemany(db: Path, folder: Path, with_events: bool) -> dict[str, Any]:
    from zoneinfo import ZoneInfo

    from dispatch_tui.services.intake.imports import FileFormat, ImportKind, parse_rows
    from dispatch_tui.services.intake.imports.rows import RequestRow

    data = (folder / "requests.csv").read_bytes()
    rows, errors = parse_rows(ImportKind.REQUESTS, data, FileFormat.CSV, ZoneInfo(ZONE))
    assert not errors, errors[:3]
    con = sqlite3.connect(db, isolation_level=None)  # explicit BEGIN / COMMIT below
    from dispatch_tui.store.engine import apply_sqlite_pragmas

    apply_sqlite_pragmas(con)  # the same as make_engine's
    customers = {
        ref: (cid, sid)
        for cid, ref, sid in con.execute(
            "SELECT customer.id, customer.ref, site.id FROM customer JOIN site ON site.customer_id = customer.id"
            " AND site.is_primary"
        )
    }
    skills = dict(con.execute("SELECT name, id FROM skill"))
    next_site = con.execute("SELECT coalesce(max(id), 0) + 1 FROM site").fetchone()[0]

    def utc(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(UTC).strftime(STAMP)

    now = utc(datetime.now(UTC))
    sites: dict[tuple[int, str, float, float], int] = {}  # the other sites the import creates (~5%)
    jobs = []
    for job_id, row in enumerate(rows, start=1):
        assert isinstance(row, RequestRow)  # a requests file parses to request rows
        customer_id, site_id = customers[row.customer_ref]
        if row.lat is not None and row.lon is not None:
            site_id = sites.setdefault((customer_id, row.address or "", row.lat, row.lon), next_site + len(sites))
        jobs.append(
            (
                job_id,
                row.ref,
                customer_id,
                site_id,
                skills[row.skill],
                row.duration_min,
                row.priority,
                utc(row.window_start),
                utc(row.window_end),
                utc(row.due_by),
                row.source,
                "new",
                row.description,
                now,
                now,
                1,
            )
        )
    site_rows = [(i, c, a, la, lo, 0) for (c, a, la, lo), i in sites.items()]
    events = [(job[0], "bench", now, None, "new", "created by import") for job in jobs] if with_events else []

    start = time.perf_counter()
    con.execute("BEGIN")
    con.executemany("INSERT INTO site (id, customer_id, address, lat, lon, is_primary) VALUES (?,?,?,?,?,?)", site_rows)
    con.executemany(
        "INSERT INTO job (id, ref, customer_id, site_id, skill_id, duration_min, priority, window_start, window_end,"
        " due_by, source, status, description, created_at, updated_at, version) VALUES"
        " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        jobs,
    )
    if events:
        con.executemany(
            "INSERT INTO jobevent (job_id, actor, at, from_status, to_status, note) VALUES (?,?,?,?,?,?)", events
        )
    con.execute("COMMIT")
    seconds = time.perf_counter() - start
    con.close()
    return {"seconds": seconds, "created": len(jobs), "sites": len(site_rows), "events": len(events)}


def child_main(phase: str, db: Path, folder: Path, rows: int) -> None:
    if phase == "seed":
        seed_store(db, folder, rows)
        result: dict[str, Any] = {}
    elif phase == "baseline":
        import dispatch_tui.services.intake.imports
        import dispatch_tui.store  # noqa: F401

        result = {}
    elif phase == "import":
        result = child_import(db, folder)
    else:
        result = child_executemany(db, folder, with_events=phase == "executemany")
    print(json.dumps({**result, "peak_mib": peak_mib(), "hwm_mib": hwm_mib()}))


# --- parent -------------------------------------------------------------------------------------------


def run_child(phase: str, db: Path, folder: Path, rows: int = 0) -> dict[str, Any]:
    # The parent stays small (it never imports the package): Linux carries the RSS high-water mark of the
    # forking process over the exec into the child's ru_maxrss, so a big parent would inflate every peak.
    command = [sys.executable, __file__, "--child", phase, "--db", str(db), "--data", str(folder), f"--rows={rows}"]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    return result


def seed_store(seed: Path, folder: Path, rows: int) -> None:
    """The demo files and a store holding their technicians and customers (untimed)."""
    from zoneinfo import ZoneInfo

    from dispatch_tui.services.intake.demo_data import DemoSpec, generate_demo, write_demo_files
    from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
    from dispatch_tui.store import make_engine, upgrade

    write_demo_files(generate_demo(DemoSpec(day=date(2026, 3, 10), seed=7, technicians=50, requests=rows)), folder)
    engine = make_engine(seed)
    upgrade(engine)
    for kind in (ImportKind.TECHNICIANS, ImportKind.CUSTOMERS):
        data = (folder / f"{kind.value}.csv").read_bytes()
        import_data(engine, kind, data, FileFormat.CSV, zone=ZoneInfo(ZONE), working_days=WORKING_DAYS, actor="bench")
    engine.dispose()
    with sqlite3.connect(seed) as con:  # fold the WAL into the file, so copying the file copies the store
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def summary(values: list[float], higher_is_better: bool = True) -> dict[str, Any]:
    best = max(values) if higher_is_better else min(values)
    return {"median": statistics.median(values), "best": best, "all": values}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, args.db, args.data, args.rows)
        return

    n = args.rows
    runs: dict[str, list[dict[str, Any]]] = {"import": [], "reimport": [], "executemany": [], "executemany_jobs": []}
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        folder = Path(tmp)
        seed = folder / "seed.db"
        run_child("seed", seed, folder, n)  # in a child too, to keep the parent small
        baseline = run_child("baseline", seed, folder)
        for k in range(args.repeat):
            db = folder / f"run{k}.db"
            shutil.copyfile(seed, db)
            runs["import"].append(run_child("import", db, folder))
            runs["reimport"].append(run_child("import", db, folder))  # the same file again: all unchanged
            for phase in ("executemany", "executemany_jobs"):
                shutil.copyfile(seed, db.with_suffix(".bound.db"))
                runs[phase].append(run_child(phase, db.with_suffix(".bound.db"), folder))
                db.with_suffix(".bound.db").unlink()
            done = ", ".join(f"{phase} {r[-1]['seconds']:.2f} s" for phase, r in runs.items())
            print(f"repeat {k + 1}/{args.repeat}: {done}", file=sys.stderr)
    assert all(r["created"] == n for p in ("import", "executemany", "executemany_jobs") for r in runs[p]), runs
    assert all(r["unchanged"] == n for r in runs["reimport"]), runs["reimport"]

    rate = {p: summary([n / r["seconds"] for r in rs]) for p, rs in runs.items()}
    peak = {p: max(r["peak_mib"] for r in runs[p]) for p in ("import", "reimport")}
    result = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(),
        },
        "rows": n,
        "repeat": args.repeat,
        "rows_per_s": rate,
        "peak_rss_mib": {**peak, "baseline": baseline["peak_mib"]},
        "vmhwm_mib": {p: max(r["hwm_mib"] for r in rs) for p, rs in {**runs, "baseline": [baseline]}.items()},
        "ratio_import_to_executemany": rate["import"]["median"] / rate["executemany"]["median"],
        "ratio_import_to_executemany_jobs": rate["import"]["median"] / rate["executemany_jobs"]["median"],
        "met": {"rows_per_s": rate["import"]["median"] >= TARGET_ROWS_S, "peak_rss": peak["import"] < TARGET_MIB},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return

    m = result["machine"]
    print(
        f"{n:,} requests, {args.repeat} repeat(s); {m['cpu_count']} CPUs, Python {m['python']}, "
        f"SQLite {m['sqlite']}, {m['platform']}"
    )
    table = [
        ("import (rows/s, median | best)", rate["import"], f">= {TARGET_ROWS_S:,}", result["met"]["rows_per_s"]),
        ("re-import, all unchanged (rows/s)", rate["reimport"], "", None),
        ("executemany jobs+events (rows/s)", rate["executemany"], "", None),
        ("executemany jobs only (rows/s)", rate["executemany_jobs"], "", None),
    ]
    print(f"{'measure':<42}{'value':>22}  {'target':<10}met?")
    for name, r, target, met in table:
        value = f"{r['median']:,.0f} | {r['best']:,.0f}"
        print(f"{name:<42}{value:>22}  {target:<10}{'' if met is None else 'yes' if met else 'NO'}")
    for name, value, target, met in (
        ("import peak RSS (MiB, worst run)", peak["import"], f"< {TARGET_MIB}", result["met"]["peak_rss"]),
        ("re-import peak RSS (MiB, worst run)", peak["reimport"], f"< {TARGET_MIB}", peak["reimport"] < TARGET_MIB),
        ("baseline RSS, modules only (MiB)", baseline["peak_mib"], "", None),
        ("import's own share (peak - baseline)", peak["import"] - baseline["peak_mib"], "", None),
        ("ratio import / executemany jobs+events", result["ratio_import_to_executemany"], "", None),
        ("ratio import / executemany jobs only", result["ratio_import_to_executemany_jobs"], "", None),
    ):
        print(f"{name:<42}{value:>22,.2f}  {target:<10}{'' if met is None else 'yes' if met else 'NO'}")


if __name__ == "__main__":
    main()
