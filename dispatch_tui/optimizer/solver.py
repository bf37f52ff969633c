"""Solving a ``Problem`` with OR-Tools routing: build the model, solve, extract plain lists.

The only module that imports ortools (an import-linter contract keeps it so). Release 9.15 from PyPI
has no ``ortools.routing``: the routing library is reached through ``ortools.constraint_solver``.

Model: vehicles are technician-days from home to home inside their shift; each task is a node whose
service starts inside its window; skills restrict vehicles (``VehicleVar(...).SetValues([-1, ...])``,
since ``SetAllowedVehiclesForIndex`` raises from Python); breaks are fixed-duration intervals that
may start within their span; tasks are optional with drop penalties that make priorities
lexicographic (no P1 dropped while a P4 is served); fixed tasks keep their vehicle and start.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from dispatch_tui.optimizer.problem import Problem, Solution, Visit

_SEARCH = routing_enums_pb2.RoutingSearchStatus
# What each search status means to a user. A time limit reached with a plan in hand is a plan.
_STATUS = {
    _SEARCH.ROUTING_NOT_SOLVED: "not solved",
    _SEARCH.ROUTING_SUCCESS: "feasible",
    _SEARCH.ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED: "feasible",
    _SEARCH.ROUTING_FAIL: "no solution",
    _SEARCH.ROUTING_FAIL_TIMEOUT: "no solution in time",
    _SEARCH.ROUTING_INVALID: "invalid model",
    _SEARCH.ROUTING_INFEASIBLE: "infeasible",
    _SEARCH.ROUTING_OPTIMAL: "optimal",
}


def drop_penalties(problem: Problem) -> dict[int, int]:
    """Penalty per priority such that dropping one task of a priority costs more than dropping every task
    of all lower priorities together, and more than any route's travel: priorities are lexicographic."""
    worst_travel = max((max(row) for row in problem.matrix), default=0) * (len(problem.tasks) + len(problem.vehicles))
    base = worst_travel + 1
    penalties, step = {}, base
    for priority in (4, 3, 2, 1):
        penalties[priority] = step
        step = step * (len(problem.tasks) + 1)
    return penalties


@dataclass
class _Model:
    problem: Problem
    manager: Any
    routing: Any
    time: Any
    breaks: list[Any | None]


def _build(problem: Problem) -> _Model:
    tasks, vehicles = problem.tasks, problem.vehicles
    depots = sorted({v.start for v in vehicles} | {v.end for v in vehicles})
    depot_node = {location: len(tasks) + k for k, location in enumerate(depots)}
    locations = [t.location for t in tasks] + depots
    service = [t.duration for t in tasks] + [0] * len(depots)
    manager = pywrapcp.RoutingIndexManager(
        len(locations), len(vehicles), [depot_node[v.start] for v in vehicles], [depot_node[v.end] for v in vehicles]
    )
    routing = pywrapcp.RoutingModel(manager)
    matrix = problem.matrix
    travel_cost, duration = _transits(routing, manager, matrix, locations, service)
    routing.SetArcCostEvaluatorOfAllVehicles(travel_cost)
    horizon = max([v.shift[1] for v in vehicles] + [t.window[1] + t.duration for t in tasks] + [0]) + 1
    routing.AddDimension(duration, horizon, horizon, False, "time")
    clock = routing.GetDimensionOrDie("time")
    for v, vehicle in enumerate(vehicles):
        clock.CumulVar(routing.Start(v)).SetRange(*vehicle.shift)
        clock.CumulVar(routing.End(v)).SetRange(*vehicle.shift)
        routing.AddVariableMinimizedByFinalizer(clock.CumulVar(routing.End(v)))
    if any(v.capacity is not None for v in vehicles):
        demand = [t.demand for t in tasks] + [0] * len(depots)
        load = routing.RegisterUnaryTransitVector(demand)
        capacities = [v.capacity if v.capacity is not None else sum(demand) for v in vehicles]
        routing.AddDimensionWithVehicleCapacity(load, 0, capacities, True, "load")

    penalties = drop_penalties(problem)
    for t, task in enumerate(tasks):
        index = manager.NodeToIndex(t)
        clock.CumulVar(index).SetRange(*task.window)
        routing.AddVariableMinimizedByFinalizer(clock.CumulVar(index))
        if task.fixed_vehicle is not None:
            routing.VehicleVar(index).SetValue(task.fixed_vehicle)
            if task.fixed_start is not None:
                clock.CumulVar(index).SetValue(task.fixed_start)
            continue
        if task.skill is not None:
            allowed = [v for v, vehicle in enumerate(vehicles) if task.skill in vehicle.skills]
            routing.VehicleVar(index).SetValues([-1, *allowed])
        routing.AddDisjunction([index], penalties[task.priority])

    solver = routing.solver()
    if problem.max_moves is not None:
        # A move is a planned task leaving its vehicle (to another, or dropped): bounded, for stability.
        leaves = [
            routing.VehicleVar(manager.NodeToIndex(t)) != task.current_vehicle
            for t, task in enumerate(tasks)
            if task.current_vehicle is not None and task.fixed_vehicle is None
        ]
        if leaves:
            solver.Add(solver.Sum(leaves) <= problem.max_moves)
    breaks: list[Any | None] = []
    visit_times = [service[manager.IndexToNode(i)] if i < routing.Size() else 0 for i in range(routing.Size())]
    for v, vehicle in enumerate(vehicles):
        # Absences are breaks that cannot move: no visit and no driving inside them.
        intervals = [
            solver.FixedDurationIntervalVar(start, start, end - start, False, f"off {vehicle.ref} {start}")
            for start, end in vehicle.unavailable
        ]
        interval = None
        if vehicle.break_ is not None:
            earliest, latest, length = vehicle.break_
            interval = solver.FixedDurationIntervalVar(earliest, latest, length, False, f"break {vehicle.ref}")
            intervals.append(interval)
        if intervals:
            clock.SetBreakIntervalsOfVehicle(intervals, v, visit_times)
        breaks.append(interval)
    return _Model(problem, manager, routing, clock, breaks)


MATRIX_NODES_MAX = 1500  # above this, two node matrices cost more memory than the callbacks cost time


def _transits(
    routing: Any, manager: Any, matrix: list[list[int]], locations: list[int], service: list[int]
) -> tuple[int, int]:
    """Travel and time (service + travel) transits. As node matrices handed to OR-Tools when they fit:
    the search then never calls back into Python, and makes many more moves in the same time."""
    nodes = len(locations)
    if nodes <= MATRIX_NODES_MAX:
        travel_nodes = [[matrix[locations[i]][locations[j]] for j in range(nodes)] for i in range(nodes)]
        time_nodes = [[service[i] + cost for cost in row] for i, row in enumerate(travel_nodes)]
        return routing.RegisterTransitMatrix(travel_nodes), routing.RegisterTransitMatrix(time_nodes)

    def travel(i: int, j: int) -> int:
        return matrix[locations[manager.IndexToNode(i)]][locations[manager.IndexToNode(j)]]

    def duration(i: int, j: int) -> int:
        node = manager.IndexToNode(i)
        return service[node] + matrix[locations[node]][locations[manager.IndexToNode(j)]]

    return routing.RegisterTransitCallback(travel), routing.RegisterTransitCallback(duration)


_FIRST = routing_enums_pb2.FirstSolutionStrategy
# The portfolio, best first. PATH_CHEAPEST_ARC finds nothing on tight windows (DESIGN.md); these always
# found a start on the benchmark instances, and which one ends best differs from instance to instance.
STRATEGIES = ("PARALLEL_CHEAPEST_INSERTION", "CHRISTOFIDES", "LOCAL_CHEAPEST_INSERTION")


def _parameters(time_limit_s: float, strategy: str = STRATEGIES[0]) -> Any:
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = getattr(_FIRST, strategy)
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    parameters.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    return parameters


def _extract(model: _Model, assignment: Any, seconds: float) -> Solution:
    problem, manager, routing, clock = model.problem, model.manager, model.routing, model.time
    status = _STATUS.get(routing.status(), f"status {routing.status()}")
    if assignment is None:
        return Solution((), tuple(range(len(problem.tasks))), 0, status, seconds)
    routes = []
    travel = 0
    served = set()
    for v in range(len(problem.vehicles)):
        visits = []
        index = routing.Start(v)
        while not routing.IsEnd(index):
            following = assignment.Value(routing.NextVar(index))
            travel += routing.GetArcCostForVehicle(index, following, v)
            node = manager.IndexToNode(index)
            if not routing.IsStart(index):
                visits.append(Visit(node, assignment.Value(clock.CumulVar(index))))
                served.add(node)
            index = following
        routes.append(tuple(visits))
    breaks: list[tuple[int, int] | None] = []
    for interval in model.breaks:
        if interval is None:
            breaks.append(None)
        else:
            start = assignment.StartValue(interval)
            breaks.append((start, start + interval.DurationMin()))
    dropped = tuple(t for t in range(len(problem.tasks)) if t not in served)
    return Solution(tuple(routes), dropped, travel, status, seconds, tuple(breaks))


def solve_one(problem: Problem, time_limit_s: float, strategy: str = STRATEGIES[0]) -> Solution:
    """One search: a first solution by ``strategy``, then guided local search until the time limit."""
    started = time.perf_counter()
    if not problem.vehicles:  # nobody works that day: a valid plan in which nothing can be assigned
        return Solution((), tuple(range(len(problem.tasks))), 0, "feasible", 0.0)
    model = _build(problem)
    parameters = _parameters(time_limit_s, strategy)
    start = _current_plan(model) if problem.max_moves is not None else None
    if start is not None:  # the current plan has no moves: search from it, within the bound
        assignment = model.routing.SolveFromAssignmentWithParameters(start, parameters)
    else:
        assignment = model.routing.SolveWithParameters(parameters)
    return _extract(model, assignment, time.perf_counter() - started)


def _current_plan(model: _Model) -> Any:
    """The plan as it stands, as a solver assignment; None if the model rejects it (e.g. forced overrides)."""
    routes: list[list[int]] = [[] for _ in model.problem.vehicles]
    planned = sorted(
        (task.current_start or 0, t, task.current_vehicle)
        for t, task in enumerate(model.problem.tasks)
        if task.current_vehicle is not None
    )
    for _, t, vehicle in planned:
        assert vehicle is not None
        routes[vehicle].append(model.manager.NodeToIndex(t))
    model.routing.CloseModelWithParameters(_parameters(1.0))
    return model.routing.ReadAssignmentFromRoutes(routes, True)


def solve(problem: Problem, *, time_limit_s: float = 10.0, seed: int = 0, workers: int | None = None) -> Solution:
    """The best plan found within the time limit.

    Routing search is single-threaded, so parallelism comes from processes: each worker runs a different
    first-solution strategy for the whole time limit, and the best plan wins (fewest priority-weighted
    drops, then least travel). ``workers`` defaults to the CPU count, at most one per strategy; 1 runs
    in this process. ``seed`` is reserved for randomised strategies: the strategies are deterministic.
    """
    count = max(1, min(workers or os.cpu_count() or 1, len(STRATEGIES)))
    if count == 1 or not problem.vehicles:
        return solve_one(problem, time_limit_s)
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold SQLite handles
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        runs = list(pool.map(solve_one, [problem] * count, [time_limit_s] * count, STRATEGIES[:count]))
    penalty = drop_penalties(problem)
    usable = [r for r in runs if r.status in ("feasible", "optimal")] or runs
    best = min(usable, key=lambda r: (sum(penalty[problem.tasks[t].priority] for t in r.dropped), r.travel))
    return Solution(best.routes, best.dropped, best.travel, best.status, time.perf_counter() - started, best.breaks)
