"""VRPTW benchmark: our optimizer vs VROOM (pyvroom) vs PyVRP, side by side, on Solomon and Gehring–Homberger.

Every solver gets the same instance: Euclidean distances and travel times scaled by SCALE and rounded to integers,
one vehicle per available vehicle of the instance (start = end = depot, shift = depot window, capacity), one job per
customer (demand, service time, window on the start of service). Each solution is then judged the same way,
independently of the solver: its distance is recomputed in floating point from the coordinates, and a small checker
verifies that every customer is served once and that capacity and time windows hold. The gap is to the best known
pure-distance solution in ``bks.csv`` (``distance`` for Solomon, ``distance_dimacs`` for Gehring–Homberger).

    .venv/bin/python bench/vrptw_bench.py [--set solomon|gh200|gh400 ...] [--instances C101,R101]
        [--time-limits 5,30] [--solvers ours,vroom,pyvrp] [--instances-dir DIR] [--json]

The peers are dev/bench dependencies only (the ``bench`` extra): ``pip install -e '.[dev,bench]'``.
A full run (all 56 Solomon instances, two limits, three solvers) takes hours; the default subset (one instance
per class, limits 5 and 30 s) takes about 7.5 minutes, and about 75 s with ``--time-limits 5``.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import math
import os
import platform
import statistics
import sys
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from itertools import pairwise
from pathlib import Path
from typing import Any

SCALE = 100  # integer matrix = Euclidean distance × SCALE, rounded; windows and service times × SCALE
SEED = 1
VROOM_EXPLORATION = 5
REPO = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCES_DIR = REPO.parent / "shared" / "bench"  # ../shared/bench from the repo root

# set name -> (folder under the instances dir, BKS objective in bks.csv, default instances)
SETS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "solomon": ("solomon", "distance", ("C101", "C201", "R101", "R201", "RC101", "RC201")),
    "gh200": ("homberger/200", "distance_dimacs", ("C1_2_1", "C2_2_1", "R1_2_1", "R2_2_1", "RC1_2_1", "RC2_2_1")),
    "gh400": ("homberger/400", "distance_dimacs", ("C1_4_1", "C2_4_1", "R1_4_1", "R2_4_1", "RC1_4_1", "RC2_4_1")),
}
SOLVERS = ("ours", "vroom", "pyvrp")


# ---------------------------------------------------------------- instances


@dataclass(frozen=True)
class Customer:
    id: int
    x: float
    y: float
    demand: int
    ready: int
    due: int
    service: int


@dataclass(frozen=True)
class Instance:
    name: str
    vehicles: int
    capacity: int
    nodes: tuple[Customer, ...]  # nodes[0] is the depot, nodes[i].id == i

    @property
    def customers(self) -> tuple[Customer, ...]:
        return self.nodes[1:]

    def dist(self, a: int, b: int) -> float:
        return math.hypot(self.nodes[a].x - self.nodes[b].x, self.nodes[a].y - self.nodes[b].y)


def read_solomon(path: Path) -> Instance:
    """The Solomon text format (also the Gehring–Homberger files): name, VEHICLE NUMBER/CAPACITY, CUSTOMER rows."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    name = next(line for line in lines if line)
    vehicles = capacity = None
    nodes: list[Customer] = []
    for i, line in enumerate(lines):
        fields = line.split()
        if line.upper().startswith("NUMBER") and vehicles is None:
            nums = next(other.split() for other in lines[i + 1 :] if other)
            vehicles, capacity = int(nums[0]), int(nums[1])
        elif len(fields) == 7 and all(f.replace(".", "", 1).lstrip("-").isdigit() for f in fields):
            cid, x, y, demand, ready, due, service = (float(f) for f in fields)
            nodes.append(Customer(int(cid), x, y, int(demand), int(ready), int(due), int(service)))
    if vehicles is None or capacity is None or not nodes:
        raise ValueError(f"{path}: not a Solomon-format instance")
    if [n.id for n in nodes] != list(range(len(nodes))):
        raise ValueError(f"{path}: customers are not numbered 0..n in order")
    return Instance(name.upper(), vehicles, capacity, tuple(nodes))


def find_instance(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.txt", folder / f"{name.upper()}.txt", folder / f"{name.lower()}.txt"):
        if candidate.is_file():
            return candidate
    return None


def read_bks(path: Path) -> dict[tuple[str, str], tuple[int, float]]:
    with path.open(newline="") as handle:
        return {
            (row["instance"].upper(), row["objective"]): (int(row["vehicles"]), float(row["distance"]))
            for row in csv.DictReader(handle)
        }


def scaled_matrix(inst: Instance) -> list[list[int]]:
    n = len(inst.nodes)
    return [[round(inst.dist(a, b) * SCALE) for b in range(n)] for a in range(n)]


# ---------------------------------------------------------------- judging a route set


def route_distance(inst: Instance, routes: list[list[int]]) -> float:
    total = 0.0
    for route in routes:
        if route:
            path = [0, *route, 0]
            total += sum(inst.dist(a, b) for a, b in pairwise(path))
    return total


def check_routes(inst: Instance, routes: list[list[int]], per_leg_tolerance: float) -> list[str]:
    """Independent validity check in floating point: every customer once, fleet size, capacity, windows.

    Arrival may be early (the vehicle waits until ``ready``) but never after ``due``; the vehicle must be back at
    the depot by the depot's due time. The solvers see rounded times, so each leg may be up to ``per_leg_tolerance``
    longer here than there: the lateness allowed grows with the number of legs driven.
    """
    problems: list[str] = []
    used = [r for r in routes if r]
    if len(used) > inst.vehicles:
        problems.append(f"{len(used)} routes > {inst.vehicles} vehicles")
    seen: dict[int, int] = {}
    for route in used:
        for c in route:
            seen[c] = seen.get(c, 0) + 1
    missing = [c.id for c in inst.customers if c.id not in seen]
    if missing:
        problems.append(f"{len(missing)} customers not served (e.g. {missing[:5]})")
    if twice := sorted(c for c, k in seen.items() if k > 1):
        problems.append(f"customers served more than once: {twice[:5]}")
    if unknown := sorted(c for c in seen if not 1 <= c < len(inst.nodes)):
        problems.append(f"unknown customers: {unknown[:5]}")
        return problems
    depot = inst.nodes[0]
    for k, route in enumerate(used):
        load = sum(inst.nodes[c].demand for c in route)
        if load > inst.capacity:
            problems.append(f"route {k}: load {load} > capacity {inst.capacity}")
        t, prev = float(depot.ready), 0
        for legs, c in enumerate(route, start=1):
            node = inst.nodes[c]
            t += inst.dist(prev, c)
            if t > node.due + legs * per_leg_tolerance + 1e-9:
                problems.append(f"route {k}: customer {c} reached at {t:.2f} > due {node.due}")
            t = max(t, node.ready) + node.service
            prev = c
        t += inst.dist(prev, 0)
        if t > depot.due + (len(route) + 1) * per_leg_tolerance + 1e-9:
            problems.append(f"route {k}: back at the depot at {t:.2f} > {depot.due}")
    return problems


@dataclass
class Run:
    instance: str
    set: str
    limit_s: float
    solver: str
    bks: float | None
    distance: float | None = None
    gap: float | None = None  # (ours - bks) / bks
    routes: int | None = None
    feasible: bool = False
    strict_float_feasible: bool = False  # also without the rounding tolerance
    wall_s: float | None = None
    problems: list[str] = field(default_factory=list)  # why it is not feasible
    notes: list[str] = field(default_factory=list)  # what the solver said (status, unassigned, ...)
    error: str | None = None


def judge(run: Run, inst: Instance, routes: list[list[int]]) -> Run:
    used = [r for r in routes if r]
    run.distance = route_distance(inst, used)
    run.routes = len(used)
    run.problems = check_routes(inst, used, per_leg_tolerance=0.5 / SCALE)
    run.feasible = not run.problems
    run.strict_float_feasible = not check_routes(inst, used, per_leg_tolerance=0.0)
    if run.bks:
        run.gap = (run.distance - run.bks) / run.bks
    return run


# ---------------------------------------------------------------- solvers


def solve_ours(inst: Instance, limit: float, solve: Any) -> tuple[list[list[int]], float, list[str]]:
    from dispatch_tui.optimizer.problem import Problem, Task, Vehicle

    depot = inst.nodes[0]
    shift = (depot.ready * SCALE, depot.due * SCALE)
    vehicles = tuple(
        Vehicle(ref=f"v{k}", start=0, end=0, shift=shift, capacity=inst.capacity) for k in range(inst.vehicles)
    )
    tasks = tuple(
        Task(
            ref=str(c.id),
            location=c.id,
            duration=c.service * SCALE,
            window=(c.ready * SCALE, c.due * SCALE),
            skill=None,
            priority=3,
            demand=c.demand,
        )
        for c in inst.customers
    )
    problem = Problem(matrix=scaled_matrix(inst), vehicles=vehicles, tasks=tasks)
    started = time.perf_counter()
    solution = solve(problem, time_limit_s=limit, seed=SEED)
    wall = time.perf_counter() - started
    routes = [[tasks[visit.task].location for visit in route] for route in solution.routes]
    notes = [] if solution.ok else [f"status {solution.status}"]
    if solution.dropped:
        notes.append(f"dropped {len(solution.dropped)} tasks")
    return routes, wall, notes


def vroom_takes_timeout() -> bool:
    import vroom

    return "timeout" in inspect.signature(vroom.Input.solve).parameters


def solve_vroom(inst: Instance, limit: float, use_timeout: bool) -> tuple[list[list[int]], float, list[str]]:
    import vroom

    depot = inst.nodes[0]
    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=scaled_matrix(inst))  # costs default to durations
    for k in range(inst.vehicles):
        problem.add_vehicle(
            vroom.Vehicle(
                id=k,
                start=0,
                end=0,
                capacity=[inst.capacity],
                time_window=vroom.TimeWindow(depot.ready * SCALE, depot.due * SCALE),
            )
        )
    for c in inst.customers:
        problem.add_job(
            vroom.Job(
                id=c.id,
                location=c.id,
                default_service=c.service * SCALE,
                delivery=[c.demand],
                time_windows=[vroom.TimeWindow(c.ready * SCALE, c.due * SCALE)],
            )
        )
    options: dict[str, Any] = {"exploration_level": VROOM_EXPLORATION, "nb_threads": 1}
    if use_timeout and vroom_takes_timeout():
        options["timeout"] = timedelta(seconds=limit)
    started = time.perf_counter()
    solution = problem.solve(**options)
    wall = time.perf_counter() - started
    result = solution.to_dict()
    routes = [[step["id"] for step in route["steps"] if step["type"] == "job"] for route in result.get("routes", [])]
    notes = [f"unassigned {len(result['unassigned'])}"] if result.get("unassigned") else []
    return routes, wall, notes


def solve_pyvrp(inst: Instance, limit: float) -> tuple[list[list[int]], float, list[str]]:
    import pyvrp
    from pyvrp.stop import MaxRuntime

    model = pyvrp.Model()
    locations = [model.add_location(node.x, node.y) for node in inst.nodes]
    depot = inst.nodes[0]
    model.add_depot(locations[0], tw_early=depot.ready * SCALE, tw_late=depot.due * SCALE)
    model.add_vehicle_type(
        num_available=inst.vehicles,
        capacity=[inst.capacity],
        tw_early=depot.ready * SCALE,
        tw_late=depot.due * SCALE,
    )
    for c in inst.customers:
        model.add_client(
            locations[c.id],
            delivery=[c.demand],
            service_duration=c.service * SCALE,
            tw_early=c.ready * SCALE,
            tw_late=c.due * SCALE,
            name=str(c.id),
        )
    matrix = scaled_matrix(inst)
    for a, frm in enumerate(locations):
        for b, to in enumerate(locations):
            if a != b:
                model.add_edge(frm, to, distance=matrix[a][b], duration=matrix[a][b])
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PenaltyBoundWarning: the checker below says whether the result is valid
        result = model.solve(MaxRuntime(limit), seed=SEED, collect_stats=False, display=False)
    wall = time.perf_counter() - started
    # client activity idx is 0-based over the clients, which were added in customer order (customer id = idx + 1)
    routes = [[activity.idx + 1 for activity in route if activity.is_client()] for route in result.best.routes()]
    notes = [] if result.is_feasible() else ["PyVRP: best solution infeasible"]
    return routes, wall, notes


# ---------------------------------------------------------------- report


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    cpu_model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu_model = names[0].split(":", 1)[1].strip() if names else ""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "ortools": package_version("ortools"),
        "pyvroom": package_version("pyvroom"),
        "pyvrp": package_version("pyvrp"),
    }


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def cell(run: Run | None) -> str:
    if run is None:
        return f"{'':>9} {'':>6} {'':>3} {'':>3} {'':>5}"
    if run.error:
        return f"{'error':>9} {'-':>6} {'-':>3} {'err':>3} {fmt(run.wall_s, '5.1f'):>5}"
    gap = fmt(None if run.gap is None else run.gap * 100, "6.2f").replace("-0.00", "0.00")
    return (
        f"{fmt(run.distance, '9.2f')} {gap:>6} {run.routes:>3} {'yes' if run.feasible else 'NO':>3} "
        f"{fmt(run.wall_s, '5.1f'):>5}"
    )


def summarise(runs: list[Run], solvers: list[str], limits: list[float]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for limit in limits:
        at = [r for r in runs if r.limit_s == limit]
        per: dict[str, Any] = {}
        for solver in solvers:
            mine = [r for r in at if r.solver == solver]
            gaps = [r.gap for r in mine if r.feasible and r.gap is not None]
            per[solver] = {
                "runs": len(mine),
                "mean_gap": statistics.fmean(gaps) if gaps else None,
                "infeasible": sum(not r.feasible for r in mine),
                "mean_wall_s": statistics.fmean([r.wall_s for r in mine if r.wall_s is not None] or [0.0]),
            }
        pairs: dict[str, Any] = {}
        if "ours" in solvers:
            ours = {(r.set, r.instance): r for r in at if r.solver == "ours"}
            for peer in (s for s in solvers if s != "ours"):
                both = [
                    (ours[(r.set, r.instance)], r)
                    for r in at
                    if r.solver == peer
                    and (r.set, r.instance) in ours
                    and r.feasible
                    and ours[(r.set, r.instance)].feasible
                    and r.gap is not None
                ]
                if not both:
                    pairs[peer] = {"common": 0}
                    continue
                ours_gap = statistics.fmean(o.gap for o, _ in both if o.gap is not None)
                peer_gap = statistics.fmean(p.gap for _, p in both if p.gap is not None)
                pairs[peer] = {
                    "common": len(both),
                    "ours_mean_gap": ours_gap,
                    "peer_mean_gap": peer_gap,
                    "ratio": ours_gap / peer_gap if peer_gap > 0 else None,
                    "ours_shorter": sum((o.distance or 0) < (p.distance or 0) for o, p in both),
                }
        summary[format(limit, "g")] = {"solvers": per, "ours_vs": pairs}
    return summary


def print_report(runs: list[Run], solvers: list[str], limits: list[float], summary: dict[str, Any]) -> None:
    group = f"{'dist':>9} {'gap%':>6} {'rt':>3} {'ok':>3} {'wall':>5}"
    print(f"{'':<10} {'':>9} {'':>5} | " + " | ".join(f"{s:<{len(group)}}" for s in solvers))
    print(f"{'instance':<10} {'bks':>9} {'limit':>5} | " + " | ".join(group for _ in solvers))
    keyed = {(r.set, r.instance, r.limit_s, r.solver): r for r in runs}
    rows = {(r.set, r.instance, r.limit_s): r.bks for r in runs}  # in run order: instance by instance
    for (set_name, name, limit), bks in rows.items():
        cells = " | ".join(cell(keyed.get((set_name, name, limit, s))) for s in solvers)
        print(f"{name:<10} {fmt(bks, '9.2f')} {format(limit, 'g'):>5} | {cells}")
    print()
    for limit in limits:
        block = summary[format(limit, "g")]
        print(f"limit {format(limit, 'g')} s:")
        for solver in solvers:
            s = block["solvers"][solver]
            mean = "-" if s["mean_gap"] is None else f"{s['mean_gap'] * 100:.2f} %"
            print(
                f"  {solver:<6} mean gap {mean:>8} over feasible runs, infeasible {s['infeasible']}/{s['runs']}, "
                f"mean wall {s['mean_wall_s']:.1f} s"
            )
        for peer, p in block["ours_vs"].items():
            if not p["common"]:
                print(f"  ours vs {peer}: no instance where both are feasible")
                continue
            ratio = "-" if p["ratio"] is None else f"{p['ratio']:.2f}×"
            print(
                f"  ours vs {peer}: mean gap {p['ours_mean_gap'] * 100:.2f} % vs {p['peer_mean_gap'] * 100:.2f} % "
                f"on {p['common']} instances both feasible (ratio {ratio}, "
                f"{(p['ours_mean_gap'] - p['peer_mean_gap']) * 100:+.2f} pp); ours shorter on "
                f"{p['ours_shorter']}/{p['common']}"
            )


def parse_limits(text: str) -> list[float]:
    try:
        limits = [float(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--time-limits: {exc}") from exc
    if not limits or any(limit <= 0 for limit in limits):
        raise argparse.ArgumentTypeError("--time-limits: positive seconds, comma-separated")
    return limits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="sets", action="append", choices=sorted(SETS), help="repeatable; default solomon")
    parser.add_argument("--instances", help="comma-separated names (default: one per class of each set)")
    parser.add_argument("--time-limits", type=parse_limits, default=[5.0, 30.0], help="seconds, e.g. 5,30")
    parser.add_argument("--solvers", default=",".join(SOLVERS), help="comma-separated subset of ours,vroom,pyvrp")
    parser.add_argument("--instances-dir", type=Path, default=DEFAULT_INSTANCES_DIR, help="default ../shared/bench")
    parser.add_argument(
        "--vroom-no-timeout",
        action="store_true",
        help="let VROOM run to the end of its search instead of passing it the time limit",
    )
    parser.add_argument("--json", action="store_true", help="print the runs and summary as JSON instead")
    args = parser.parse_args()

    sets = args.sets or ["solomon"]
    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    if unknown := [s for s in solvers if s not in SOLVERS]:
        parser.error(f"unknown solvers {unknown}; choose from {','.join(SOLVERS)}")
    limits: list[float] = args.time_limits
    folder: Path = args.instances_dir
    if not folder.is_dir():
        parser.error(f"instances dir {folder} not found (use --instances-dir)")
    bks = read_bks(folder / "bks.csv")

    notes: list[str] = []
    solve_fn: Any = None
    if "ours" in solvers:
        try:
            from dispatch_tui.optimizer.solver import solve as solve_fn
        except Exception as exc:  # noqa: BLE001 - a solver being written may fail to import in any way
            reason = "" if isinstance(exc, ModuleNotFoundError) else f" ({type(exc).__name__}: {exc})"
            notes.append(f"ours: dispatch_tui.optimizer.solver not available yet{reason}")
            solvers.remove("ours")
    for peer, package in (("vroom", "vroom"), ("pyvrp", "pyvrp")):
        if peer in solvers:
            try:
                __import__(package)
            except ImportError:
                notes.append(f"{peer}: not installed (pip install -e '.[dev,bench]')")
                solvers.remove(peer)
    if not solvers:
        for line in notes:
            print(line, file=sys.stderr)
        raise SystemExit("no solver to run")

    jobs: list[tuple[str, Instance]] = []
    if args.instances:  # each name from whichever of the chosen sets has it
        for name in (n.strip() for n in args.instances.split(",") if n.strip()):
            found = [(set_name, path) for set_name in sets if (path := find_instance(folder / SETS[set_name][0], name))]
            if not found:
                parser.error(f"instance {name} is in none of the sets {','.join(sets)} under {folder}")
            jobs.extend((set_name, read_solomon(path)) for set_name, path in found)
    else:
        for set_name in sets:
            sub, _, defaults = SETS[set_name]
            for name in defaults:
                path = find_instance(folder / sub, name)
                if path is None:
                    parser.error(f"instance {name} not found in {folder / sub}")
                jobs.append((set_name, read_solomon(path)))

    info = machine()
    header = [
        f"VRPTW benchmark: {len(jobs)} instances × limits {','.join(format(x, 'g') for x in limits)} s × "
        f"{','.join(solvers)}",
        f"machine: {info['cpus']} cpus ({info['cpus_usable']} usable) {info['cpu_model']}; Python {info['python']}; "
        f"{info['platform']}",
        f"versions: ortools {info['ortools']}, pyvroom {info['pyvroom']}, pyvrp {info['pyvrp']}",
        f"scale: integer matrix = Euclidean distance × {SCALE} (rounded), time = distance; distance below is "
        "recomputed in double precision from the coordinates",
        "feasible (ok): every customer once, fleet size, capacity, arrival ≤ due (waiting allowed), back at the "
        f"depot by its due, checked in floating point with {0.5 / SCALE:g} per leg for the solvers' rounding",
        "gap = (distance − BKS) / BKS; means over feasible runs only; a negative gap means that solver beat the "
        "bks.csv value (the double-precision Solomon 'distance' BKS date from 2001-2005 and are not all best any more)",
    ]
    if "solomon" in sets:
        header.append("Solomon BKS: pure-distance objective, double precision (bks.csv 'distance')")
    if any(s.startswith("gh") for s in sets):
        header.append(
            "GH BKS: 'distance_dimacs' (DIMACS: every distance truncated to 1 decimal, ~0.2-0.4 % below double "
            "precision), so the gaps there are slightly pessimistic"
        )
    if "vroom" in solvers:
        if vroom_takes_timeout() and not args.vroom_no_timeout:
            header.append(
                f"VROOM: exploration_level={VROOM_EXPLORATION}, nb_threads=1, timeout=limit (pyvroom "
                f"{info['pyvroom']} accepts one); it runs on its own time and stops when its search ends, "
                "often before the limit: see its wall time"
            )
        else:
            header.append(
                f"VROOM: exploration_level={VROOM_EXPLORATION}, nb_threads=1, no time limit passed: it runs on "
                "its own time until its search ends (see its wall time); the limit column does not apply to it"
            )
    if "pyvrp" in solvers:
        header.append(f"PyVRP: MaxRuntime(limit), seed={SEED}, single-threaded")
    if "ours" in solvers:
        header.append(f"ours: dispatch_tui.optimizer.solver.solve(problem, time_limit_s=limit, seed={SEED})")
    header.extend(notes)
    if not args.json:
        for line in header:
            print(line, flush=True)
        print("running...", flush=True)

    runs: list[Run] = []
    for set_name, inst in jobs:
        objective = SETS[set_name][1]
        best = bks.get((inst.name, objective))
        for limit in limits:
            for solver in solvers:
                run = Run(inst.name, set_name, limit, solver, best[1] if best else None)
                try:
                    if solver == "ours":
                        routes, wall, extra = solve_ours(inst, limit, solve_fn)
                    elif solver == "vroom":
                        routes, wall, extra = solve_vroom(inst, limit, use_timeout=not args.vroom_no_timeout)
                    else:
                        routes, wall, extra = solve_pyvrp(inst, limit)
                    run.wall_s = wall
                    judge(run, inst, routes)
                    run.notes = extra
                except Exception as exc:  # noqa: BLE001 - one failing run must not hide the others
                    run.error = f"{type(exc).__name__}: {exc}"
                    print(f"{solver} on {inst.name} at {limit:g} s failed:", file=sys.stderr)
                    traceback.print_exc(limit=-4, file=sys.stderr)
                runs.append(run)
                if not args.json:
                    state = "error" if run.error else ("ok" if run.feasible else "INFEASIBLE")
                    print(
                        f"  {inst.name:<8} {limit:>4g} s {solver:<6} {fmt(run.distance, '.2f'):>9} {state}"
                        + (f" — {'; '.join(run.notes + run.problems[:3])}" if run.notes or run.problems else ""),
                        flush=True,
                    )

    summary = summarise(runs, solvers, limits)
    if args.json:
        print(json.dumps({"header": header, "machine": info, "runs": [asdict(r) for r in runs], "summary": summary}))
    else:
        print()
        print_report(runs, solvers, limits, summary)


if __name__ == "__main__":
    main()
