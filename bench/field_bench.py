"""Field-service benchmark: our optimizer vs VROOM (pyvroom) on generated, over-full technician days.

Each day is built directly as our ``Problem`` from a seeded ``random.Random``: a city of about 15 km, technicians
with homes, shifts 08:00-17:00 or 07:00-15:30, 1-3 skills out of 6 and a 30-min break that may start 12:00-13:30;
jobs needing one skill, lasting 30-120 min, with a 2-4 h window (on the start of service) between 08:00 and 18:00
and a priority 1-4 (1 rare). Travel is ``travel_minutes`` (straight line x 1.3 at 40 km/h, rounded up). Days are
over-full (more job-minutes than shift minutes) so that priority decides who is served.

The same day is converted to VROOM: skills as int ids, priority P1=100, P2=40, P3=10, P4=1 (VROOM maximises the
summed priority of served jobs, then minimises cost = travel), vehicle start/end = home, time window = shift, one
break with the same window and duration. VROOM runs with exploration_level=5, nb_threads=1 and the same timeout.

Both plans are judged by the same independent checker and scored the same way: served per priority,
priority-weighted served with weights P1=1000, P2=100, P3=10, P4=1, and travel recomputed from the matrix.

    .venv/bin/python bench/field_bench.py [--sizes 100x10,500x50,2000x200] [--time-limit 30] [--seed 1]
        [--seeds 5] [--workers N] [--solvers ours,vroom]

A size may carry its own time limit: ``--sizes 100x10@3,200x25@10,500x50@10``. With ``--seeds N`` each size
is generated N times (seeds ``--seed`` .. ``--seed``+N-1) and the summary gives, per size, on how many seeds
ours served at least VROOM's weighted priority, and the mean ratios ours / VROOM of weighted served and of
travel (travel compared on the seeds where both served the same weighted priority, and over all seeds).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch_tui.optimizer.problem import Problem, Task, Vehicle
from dispatch_tui.optimizer.solver import STRATEGIES
from dispatch_tui.travel.haversine import travel_minutes

SKILLS = ("electrical", "plumbing", "hvac", "gas", "appliance", "network")
SHIFTS = ((480, 1020), (420, 930))  # 08:00-17:00, 07:00-15:30
BREAK = (720, 810, 30)  # may start 12:00-13:30, lasts 30 min
PRIORITY_SHARE = {1: 0.05, 2: 0.20, 3: 0.45, 4: 0.30}
WEIGHT = {1: 1000, 2: 100, 3: 10, 4: 1}  # our score of a served job, per priority
VROOM_PRIORITY = {1: 100, 2: 40, 3: 10, 4: 1}
VROOM_EXPLORATION = 5
CENTRE = (52.37, 4.89)
CITY_KM = 15.0
KM_PER_DEG_LAT = 111.2


# ---------------------------------------------------------------- instances


def random_point(rng: random.Random) -> tuple[float, float]:
    dy, dx = (rng.uniform(-CITY_KM / 2, CITY_KM / 2) for _ in range(2))
    lat = CENTRE[0] + dy / KM_PER_DEG_LAT
    lon = CENTRE[1] + dx / (KM_PER_DEG_LAT * math.cos(math.radians(CENTRE[0])))
    return lat, lon


def generate(jobs: int, techs: int, seed: int) -> Problem:
    """One over-full day: ``jobs`` tasks at locations 0..jobs-1, technicians' homes at jobs..jobs+techs-1."""
    rng = random.Random(f"field-{jobs}x{techs}-{seed}")
    vehicles = []
    for k in range(techs):
        shift = rng.choice(SHIFTS)
        skills = frozenset(rng.sample(SKILLS, rng.randint(1, 3)))
        vehicles.append(Vehicle(f"T{k}", jobs + k, jobs + k, shift, skills, BREAK))
    held = sorted(set().union(*(v.skills for v in vehicles)))  # every job can be done by someone
    priorities, shares = zip(*PRIORITY_SHARE.items(), strict=True)
    tasks = []
    for t in range(jobs):
        length = rng.choice((120, 150, 180, 210, 240))
        opens = 480 + 30 * rng.randint(0, (1080 - length - 480) // 30)
        tasks.append(
            Task(
                f"J{t}",
                t,
                duration=rng.choice((30, 45, 60, 75, 90, 105, 120)),
                window=(opens, opens + length),
                skill=rng.choice(held),
                priority=rng.choices(priorities, shares)[0],
            )
        )
    points = [random_point(rng) for _ in range(jobs + techs)]
    matrix = [[travel_minutes(*a, *b) for b in points] for a in points]
    return Problem(matrix=matrix, vehicles=tuple(vehicles), tasks=tuple(tasks))


def overfull_ratio(problem: Problem) -> float:
    capacity = sum(v.shift[1] - v.shift[0] - (v.break_[2] if v.break_ else 0) for v in problem.vehicles)
    return sum(t.duration for t in problem.tasks) / capacity


# ---------------------------------------------------------------- plans and their judging


@dataclass
class Plan:
    routes: list[list[tuple[int, int]]]  # per vehicle: (task index, service start) in visiting order
    wall: float
    notes: list[str] = field(default_factory=list)


def route_travel(problem: Problem, v: int, route: list[tuple[int, int]]) -> int:
    if not route:
        return 0
    vehicle = problem.vehicles[v]
    path = [vehicle.start, *(problem.tasks[t].location for t, _ in route), vehicle.end]
    return sum(problem.matrix[a][b] for a, b in pairwise(path))


def check(problem: Problem, plan: Plan) -> list[str]:
    """Skills, windows (service starts inside), drives fit between visits (so no overlap), home by shift end,
    each job at most once, and a break: some gap between leaving/visits/return whose idle time (gap minus the
    drive) is at least the break length, with a break start in [earliest, latest] that fits inside the gap."""
    problems: list[str] = []
    seen: set[int] = set()
    m = problem.matrix
    for v, route in enumerate(plan.routes):
        if not route:
            continue
        vehicle = problem.vehicles[v]
        where, free = vehicle.start, vehicle.shift[0]
        gaps = []  # (free from, drive, must arrive by)
        for t, start in route:
            task = problem.tasks[t]
            if t in seen:
                problems.append(f"{task.ref} served twice")
            seen.add(t)
            if task.skill is not None and task.skill not in vehicle.skills:
                problems.append(f"{task.ref} needs {task.skill}, {vehicle.ref} lacks it")
            if not task.window[0] <= start <= task.window[1]:
                problems.append(f"{task.ref} starts {start} outside {task.window}")
            drive = m[where][task.location]
            if free + drive > start:
                problems.append(f"{vehicle.ref}: {task.ref} at {start} but reachable only at {free + drive}")
            gaps.append((free, drive, start))
            where, free = task.location, start + task.duration
        drive = m[where][vehicle.end]
        if free + drive > vehicle.shift[1]:
            problems.append(f"{vehicle.ref} home at {free + drive} after shift end {vehicle.shift[1]}")
        gaps.append((free, drive, vehicle.shift[1]))
        if vehicle.break_ is not None:
            earliest, latest, length = vehicle.break_
            if not any(
                until - since - drive >= length and max(earliest, since) <= min(latest, until - length)
                for since, drive, until in gaps
            ):
                problems.append(f"{vehicle.ref}: no {length}-min break starting in [{earliest}, {latest}]")
    return problems


@dataclass
class Score:
    served: dict[int, int]
    weighted: int
    travel: int


def score(problem: Problem, plan: Plan) -> Score:
    served = dict.fromkeys(WEIGHT, 0)
    for route in plan.routes:
        for t, _ in route:
            served[problem.tasks[t].priority] += 1
    travel = sum(route_travel(problem, v, route) for v, route in enumerate(plan.routes))
    return Score(served, sum(WEIGHT[p] * n for p, n in served.items()), travel)


# ---------------------------------------------------------------- solvers


def solve_ours(problem: Problem, limit: float, seed: int, workers: int | None) -> Plan:
    from dispatch_tui.optimizer.solver import solve

    started = time.perf_counter()
    solution = solve(problem, time_limit_s=limit, seed=seed, workers=workers)
    wall = time.perf_counter() - started
    routes = [[(visit.task, visit.start) for visit in route] for route in solution.routes]
    routes += [[] for _ in range(len(problem.vehicles) - len(routes))]
    notes = [] if solution.ok else [f"status {solution.status}"]
    return Plan(routes, wall, notes)


def solve_vroom(problem: Problem, limit: float) -> Plan:
    import vroom

    skill_id = {name: k for k, name in enumerate(SKILLS)}
    started = time.perf_counter()
    model = vroom.Input()
    model.set_durations_matrix(profile="car", matrix_input=problem.matrix)  # costs default to durations
    for v, vehicle in enumerate(problem.vehicles):
        breaks = []
        if vehicle.break_ is not None:
            earliest, latest, length = vehicle.break_
            breaks.append(vroom.Break(id=v, time_windows=[vroom.TimeWindow(earliest, latest)], service=length))
        model.add_vehicle(
            vroom.Vehicle(
                id=v,
                start=vehicle.start,
                end=vehicle.end,
                skills={skill_id[s] for s in vehicle.skills},
                time_window=vroom.TimeWindow(*vehicle.shift),
                breaks=breaks,
            )
        )
    for t, task in enumerate(problem.tasks):
        model.add_job(
            vroom.Job(
                id=t,
                location=task.location,
                default_service=task.duration,
                skills={skill_id[task.skill]} if task.skill is not None else None,
                priority=VROOM_PRIORITY[task.priority],
                time_windows=[vroom.TimeWindow(*task.window)],
            )
        )
    solution = model.solve(
        exploration_level=VROOM_EXPLORATION, nb_threads=1, timeout=timedelta(seconds=limit)
    ).to_dict()
    wall = time.perf_counter() - started
    routes: list[list[tuple[int, int]]] = [[] for _ in problem.vehicles]
    for route in solution.get("routes", []):
        routes[route["vehicle"]] = [
            (step["id"], step["arrival"] + step.get("waiting_time", 0))
            for step in route["steps"]
            if step["type"] == "job"
        ]
    return Plan(routes, wall)


# ---------------------------------------------------------------- main


def parse_sizes(text: str, default_limit: float) -> list[tuple[int, int, float]]:
    """'100x10@3,500x50' -> [(100, 10, 3.0), (500, 50, default_limit)]."""
    sizes = []
    for part in text.split(","):
        shape, _, limit = part.lower().partition("@")
        jobs, techs = shape.split("x")
        sizes.append((int(jobs), int(techs), float(limit) if limit else default_limit))
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100x10,500x50,2000x200", help="jobs x technicians, comma-separated")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds, ours and VROOM's timeout")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=1, help="days generated per size (seeds --seed, --seed+1, ...)")
    parser.add_argument("--workers", type=int, default=None, help="our solver's processes (default: its own)")
    parser.add_argument("--solvers", default="ours,vroom")
    args = parser.parse_args(argv)
    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    workers = args.workers if args.workers is not None else f"default (cpu {os.cpu_count()}, max {len(STRATEGIES)})"
    print(
        f"time limit {args.time_limit:g} s unless a size says; ours: workers {workers}; VROOM: "
        f"exploration_level={VROOM_EXPLORATION}, nb_threads=1, the same timeout; VROOM priorities P1..P4 = "
        f"{'/'.join(str(VROOM_PRIORITY[p]) for p in WEIGHT)}; weighted = served P1..P4 x "
        f"{'/'.join(str(WEIGHT[p]) for p in WEIGHT)}",
        flush=True,
    )
    rows: list[tuple[str, int, str, Score, float, list[str]]] = []
    for jobs, techs, limit in parse_sizes(args.sizes, args.time_limit):
        size = f"{jobs}x{techs}@{limit:g}s"
        for seed in range(args.seed, args.seed + args.seeds):
            started = time.perf_counter()
            problem = generate(jobs, techs, seed)
            counts = {p: sum(t.priority == p for t in problem.tasks) for p in WEIGHT}
            print(
                f"{size} seed {seed}: generated in {time.perf_counter() - started:.1f} s; jobs per priority "
                f"{'/'.join(str(counts[p]) for p in WEIGHT)}; over-full x{overfull_ratio(problem):.2f} "
                f"(job minutes / shift minutes net of breaks)",
                flush=True,
            )
            for solver in solvers:
                if solver == "ours":
                    plan = solve_ours(problem, limit, seed, args.workers)
                elif solver == "vroom":
                    plan = solve_vroom(problem, limit)
                else:
                    raise SystemExit(f"unknown solver {solver}")
                problems = check(problem, plan)
                result = score(problem, plan)
                rows.append((size, seed, solver, result, plan.wall, problems + plan.notes))
                print(f"  {solver}: {plan.wall:.1f} s, weighted {result.weighted}, travel {result.travel}", flush=True)
                for line in (problems + plan.notes)[:20]:
                    print(f"    ! {line}")
                if len(problems) > 20:
                    print(f"    ! ... {len(problems) - 20} more")

    print()
    header = (
        f"{'size':<14} {'seed':>4} {'solver':<6} {'P1':>5} {'P2':>5} {'P3':>5} {'P4':>5} {'weighted':>9} {'travel':>7} "
    )
    print(header + f"{'wall s':>7}  valid")
    for size, seed, solver, result, wall, problems in rows:
        served = " ".join(f"{result.served[p]:>5}" for p in WEIGHT)
        valid = "yes" if not problems else f"NO ({len(problems)})"
        print(
            f"{size:<14} {seed:>4} {solver:<6} {served} {result.weighted:>9} {result.travel:>7} {wall:>7.1f}  {valid}"
        )
    print()
    pairs: dict[str, list[tuple[Score, Score, float]]] = {}
    found: dict[tuple[str, int], dict[str, tuple[Score, float]]] = {}
    for size, seed, solver, result, wall, _ in rows:
        found.setdefault((size, seed), {})[solver] = (result, wall)
    for (size, _seed), results in found.items():
        if "ours" in results and "vroom" in results:
            pairs.setdefault(size, []).append((results["ours"][0], results["vroom"][0], results["vroom"][1]))
    for size, runs in pairs.items():
        at_least = sum(ours.weighted >= peer.weighted for ours, peer, _ in runs)
        weighted = statistics.mean(ours.weighted / peer.weighted for ours, peer, _ in runs if peer.weighted)
        travel_all = statistics.mean(ours.travel / peer.travel for ours, peer, _ in runs if peer.travel)
        tied = [ours.travel / peer.travel for ours, peer, _ in runs if ours.weighted == peer.weighted and peer.travel]
        tied_text = f"{statistics.mean(tied):.3f} x on the {len(tied)} tied seed(s)" if tied else "no tied seed"
        vroom_s = statistics.mean(wall for _, _, wall in runs)
        print(
            f"{size}: weighted served >= VROOM on {at_least} of {len(runs)} seed(s); weighted ours/VROOM "
            f"{weighted:.3f} (mean); travel ours/VROOM {travel_all:.3f} x (mean, all seeds), {tied_text}; "
            f"VROOM's time {vroom_s:.1f} s (mean)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
