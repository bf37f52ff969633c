"""Customer lookup benchmark (issue 14): ``Core.find_customers`` at 100,000 customers, in process.

Target: p95 <= 30 ms per lookup, warm (the index in memory built; results with their sites, open jobs and
last visits read from the store). Also measured: the first lookup (which builds the index), its memory,
and the customers import with the store's customer-stamp triggers.

The store: N customers imported through the real import path (a CSV of generated people and businesses
in a few cities, phones written four ways, 80 % with an e-mail; a long tail of surnames and streets as in
real data, plus the demo's common names), then, by bulk insert, one job for one customer in five: a third
still open, the rest completed with their audit event. Queries, drawn from the stored customers with a
fixed seed, mix five kinds: the exact ref, the phone typed another way, the name with a typo, the e-mail,
the house number and street. Each is checked to find its customer (the ``found`` rate per kind).

    .venv/bin/python bench/lookup_bench.py [--customers 100000] [--queries 100] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ZONE = "Europe/Paris"
TARGET_P95_MS = 30.0
KINDS = ("ref", "phone", "name typo", "email", "street")
CITIES = (("Lyon", "690"), ("Villeurbanne", "69100"), ("Bron", "69500"), ("Vénissieux", "69200"),
          ("Caluire-et-Cuire", "69300"), ("Écully", "69130"), ("Oullins", "69600"), ("Meyzieu", "69330"))  # fmt: skip
STREET_TYPES = ("rue", "avenue", "boulevard", "place", "chemin", "impasse", "allée", "quai", "cours")
SYLLABLES = ("ba", "ber", "bo", "cha", "che", "da", "de", "du", "fa", "ga", "gi", "la", "le", "lo", "ma", "mar",
             "mi", "mo", "na", "ne", "pa", "pe", "pon", "ra", "re", "ri", "ro", "sa", "se", "ta", "te", "ti", "to",
             "va", "vi", "lan", "rand", "tin", "nier", "quet", "mont", "court", "ville", "gnac", "sson",
             "reau")  # fmt: skip
STAMP = "%Y-%m-%d %H:%M:%S.%f"  # how the store's UTCDateTime lies in SQLite (naive UTC)


def made_up_word(rng: random.Random, low: int = 2, high: int = 3) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(low, high))).capitalize()


def phone_written(rng: random.Random, digits: str) -> str:
    """A French mobile number (9 national digits) as people write it: four ways."""
    pairs = " ".join(digits[i : i + 2] for i in range(1, 9, 2))
    return rng.choice((f"0{digits[0]} {pairs}", f"+33 {digits[0]} {pairs}", f"0{digits}", f"+33{digits}"))


def phone_typed(rng: random.Random, digits: str) -> str:
    """The same number as a caller says it, dotted or with 0033."""
    pairs = ".".join(digits[i : i + 2] for i in range(1, 9, 2))
    return rng.choice((f"0{digits[0]}.{pairs}", f"0033 {digits[0]} {pairs.replace('.', ' ')}"))


def typo(rng: random.Random, word: str) -> str:
    """One letter changed, dropped or swapped with the next, inside the word."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("change", "drop", "swap"))
    if kind == "change":
        return word[:i] + rng.choice([c for c in "aeioulnrst" if c != word[i].lower()]) + word[i + 1 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def customers_csv(n: int, seed: int) -> tuple[str, list[dict[str, str]]]:
    from dispatch_tui.services.intake.demo_data import FIRST_NAMES, LAST_NAMES

    rng = random.Random(seed)
    surnames = [made_up_word(rng) for _ in range(30_000)] + list(LAST_NAMES) * 200
    firsts = list(FIRST_NAMES) + [made_up_word(rng, 2, 2) for _ in range(400)]
    joins = ("des", "de la", "du", "")
    streets = [" ".join(part for part in (rng.choice(STREET_TYPES), rng.choice(joins), made_up_word(rng)) if part)
               for _ in range(4_000)]  # fmt: skip
    numbers = rng.sample(range(10_000_000, 99_999_999), n)
    rows = []
    for i in range(n):
        if rng.random() < 0.15:
            name = f"{made_up_word(rng)} {rng.choice(('Plomberie', 'Boulangerie', 'SARL', 'Garage', 'Hôtel'))}"
            email = f"contact@{name.split()[0].lower()}{i}.example"
        else:
            first, last = rng.choice(firsts), rng.choice(surnames)
            name = f"{first} {last}"
            email = f"{first.lower()}.{last.lower().replace(' ', '')}{i % 97}@example.net" if rng.random() < 0.8 else ""
        city, postcode = rng.choice(CITIES)
        digits = f"{rng.choice('67')}{numbers[i]}"
        rows.append({
            "ref": f"C{i + 1:06d}", "name": name,
            "address": f"{rng.randint(1, 180)} {rng.choice(streets)}, {postcode} {city}",
            "lat": f"{45.70 + rng.random() * 0.12:.5f}", "lon": f"{4.78 + rng.random() * 0.16:.5f}",
            "phone": phone_written(rng, digits), "email": email, "contract": "", "_digits": digits,
        })  # fmt: skip
    header = "ref,name,address,lat,lon,phone,email,contract\n"
    body = "".join(
        ",".join(f'"{row[c]}"' if "," in row[c] else row[c] for c in header.strip().split(",")) + "\n" for row in rows
    )
    return header + body, rows


def add_jobs(db: Path, n_customers: int, seed: int) -> int:
    """One job for one customer in five: a third open, the rest completed (with their audit events)."""
    rng = random.Random(seed)
    connection = sqlite3.connect(db)
    connection.execute("INSERT INTO skill (name) VALUES ('boiler'), ('plumbing'), ('electrical')")
    sites = dict(connection.execute("SELECT customer_id, id FROM site WHERE is_primary"))
    base = datetime(2026, 6, 1, 8, tzinfo=UTC)
    jobs: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    for k, customer_id in enumerate(rng.sample(sorted(sites), n_customers // 5)):
        start = base + timedelta(days=rng.randrange(0, 180), hours=rng.randrange(0, 9))
        status = "new" if k % 3 == 0 else "completed"
        stamp = start.replace(tzinfo=None).strftime(STAMP)
        end = (start + timedelta(hours=2)).replace(tzinfo=None).strftime(STAMP)
        jobs.append((f"R{k + 1:06d}", customer_id, sites[customer_id], rng.randint(1, 3), 60, rng.randint(1, 4), stamp,
                     end, "phone", status, stamp, stamp))  # fmt: skip
    connection.executemany(
        "INSERT INTO job (ref, customer_id, site_id, skill_id, duration_min, priority, window_start, window_end,"
        " source, status, description, created_at, updated_at, version) VALUES (?,?,?,?,?,?,?,?,?,?,'',?,?,1)",
        jobs,
    )
    for job_id, status, stamp in connection.execute("SELECT id, status, window_end FROM job"):
        events.append((job_id, "bench", None, "new", stamp))
        if status == "completed":
            events.append((job_id, "bench", "on_site", "completed", stamp))
    connection.executemany("INSERT INTO jobevent (job_id, actor, from_status, to_status, note, at) "
                           "VALUES (?,?,?,?,'',?)", events)  # fmt: skip
    connection.commit()
    connection.close()
    return len(jobs)


def queries(rows: list[dict[str, str]], count: int, seed: int) -> list[tuple[str, str, str]]:
    """(kind, query, the ref it must find), ``count`` of each kind."""
    rng = random.Random(seed)
    out = []
    for kind in KINDS:
        made = 0
        while made < count:
            row = rng.choice(rows)
            if kind == "ref":
                query = row["ref"]
            elif kind == "phone":
                query = phone_typed(rng, row["_digits"])
            elif kind == "name typo":
                parts = row["name"].split()
                longest = max(range(len(parts)), key=lambda j: len(parts[j]))
                if len(parts[longest]) < 5:
                    continue
                parts[longest] = typo(rng, parts[longest])
                query = " ".join(parts)
            elif kind == "email":
                if not row["email"]:
                    continue
                query = row["email"]
            else:
                query = row["address"].split(",")[0]
            out.append((kind, query, row["ref"]))
            made += 1
    rng.shuffle(out)
    return out


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100, help="queries of each kind")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from zoneinfo import ZoneInfo

    from dispatch_tui.config import Settings
    from dispatch_tui.services.core import Core
    from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
    from dispatch_tui.store import make_engine, upgrade

    folder = Path(tempfile.mkdtemp(prefix="lookup-bench-"))
    db = folder / "dispatch.db"
    engine = make_engine(db)
    upgrade(engine)
    data, rows = customers_csv(args.customers, args.seed)
    started = time.perf_counter()
    import_data(engine, ImportKind.CUSTOMERS, data.encode(), FileFormat.CSV, zone=ZoneInfo(ZONE),
                working_days=[0, 1, 2, 3, 4], actor="bench")  # fmt: skip
    import_s = time.perf_counter() - started
    engine.dispose()
    jobs = add_jobs(db, args.customers, args.seed)

    core = Core(Settings(db=str(db), timezone=ZONE))
    before = rss_mib()
    started = time.perf_counter()
    core.find_customers("warm-up", limit=10)
    build_s = time.perf_counter() - started
    index_mib = rss_mib() - before

    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    found: dict[str, int] = dict.fromkeys(KINDS, 0)
    first: dict[str, int] = dict.fromkeys(KINDS, 0)
    for kind, query, ref in queries(rows, args.queries, args.seed):
        started = time.perf_counter()
        hits = core.find_customers(query, limit=10)
        timings[kind].append((time.perf_counter() - started) * 1000)
        refs = [hit.ref for hit in hits]
        found[kind] += ref in refs
        first[kind] += bool(refs) and refs[0] == ref
    core.close()
    every = [t for kind in KINDS for t in timings[kind]]
    result: dict[str, Any] = {
        "customers": args.customers, "jobs": jobs, "queries": len(every),
        "import_customers_s": round(import_s, 2), "first_lookup_s": round(build_s, 2),
        "index_rss_mib": round(index_mib, 1),
        "p50_ms": round(statistics.median(every), 2), "p95_ms": round(percentile(every, 0.95), 2),
        "max_ms": round(max(every), 2), "target_p95_ms": TARGET_P95_MS,
        "met": percentile(every, 0.95) <= TARGET_P95_MS,
        "by_kind": {kind: {"p50_ms": round(statistics.median(timings[kind]), 2),
                           "p95_ms": round(percentile(timings[kind], 0.95), 2),
                           "found": f"{found[kind]}/{len(timings[kind])}",
                           "first": f"{first[kind]}/{len(timings[kind])}"} for kind in KINDS},
        "python": platform.python_version(), "cpus": os.cpu_count(),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.customers:,} customers, {jobs:,} jobs; import {import_s:.2f} s; first lookup (index) "
          f"{build_s:.2f} s, +{index_mib:.0f} MiB")  # fmt: skip
    print(f"lookups: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms (target <= {TARGET_P95_MS:g} ms: "
          f"{'met' if result['met'] else 'MISSED'}), max {result['max_ms']} ms")  # fmt: skip
    for kind, figures in result["by_kind"].items():
        print(f"  {kind:10} p50 {figures['p50_ms']:6} ms  p95 {figures['p95_ms']:6} ms  found {figures['found']}"
              f"  first {figures['first']}")  # fmt: skip


if __name__ == "__main__":
    main()
