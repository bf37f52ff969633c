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
from dataclasses import dataclass, replace
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from dispatch_tui.optimizer.construction import construct
from dispatch_tui.optimizer.problem import Problem, Solution, SolveStatus, Visit

_SEARCH = routing_enums_pb2.RoutingSearchStatus
# What each search status means to a user. A time limit reached with a plan in hand is a plan.
_STATUS = {
    _SEARCH.ROUTING_NOT_SOLVED: SolveStatus.NOT_SOLVED,
    _SEARCH.ROUTING_SUCCESS: SolveStatus.FEASIBLE,
    _SEARCH.ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED: SolveStatus.FEASIBLE,
    _SEARCH.ROUTING_FAIL: SolveStatus.NO_SOLUTION,
    _SEARCH.ROUTING_FAIL_TIMEOUT: SolveStatus.NO_SOLUTION_IN_TIME,
    _SEARCH.ROUTING_INVALID: SolveStatus.INVALID,
    _SEARCH.ROUTING_INFEASIBLE: SolveStatus.INFEASIBLE,
    _SEARCH.ROUTING_OPTIMAL: SolveStatus.OPTIMAL,
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
    reach = _fixed_reach(problem)
    horizon = max([horizon, *(back + 1 for _, back in reach.values())]) + max((v.overtime for v in vehicles), default=0)
    routing.AddDimension(duration, horizon, horizon, False, "time")
    clock = routing.GetDimensionOrDie("time")
    for v, vehicle in enumerate(vehicles):
        # A visit fixed outside the shift (a dispatcher's forced override) stretches it rather than
        # making the whole day unsolvable.
        earliest, latest = reach.get(v, vehicle.shift)
        shift_start, shift_end = vehicle.shift
        clock.CumulVar(routing.Start(v)).SetRange(min(shift_start, earliest), shift_end)
        clock.CumulVar(routing.End(v)).SetRange(shift_start, max(shift_end + vehicle.overtime, latest))
        if vehicle.overtime and problem.overtime_cost:
            clock.SetCumulVarSoftUpperBound(routing.End(v), shift_end, problem.overtime_cost)
        routing.AddVariableMinimizedByFinalizer(clock.CumulVar(routing.End(v)))
    if any(v.capacity is not None for v in vehicles):
        demand = [t.demand for t in tasks] + [0] * len(depots)
        load = routing.RegisterUnaryTransitVector(demand)
        capacities = [v.capacity if v.capacity is not None else sum(demand) for v in vehicles]
        routing.AddDimensionWithVehicleCapacity(load, 0, capacities, True, "load")

    penalties = drop_penalties(problem)
    for t, task in enumerate(tasks):
        index = manager.NodeToIndex(t)
        routing.AddVariableMinimizedByFinalizer(clock.CumulVar(index))
        if task.fixed_vehicle is not None:  # where it is, even if that was forced outside its window
            routing.VehicleVar(index).SetValue(task.fixed_vehicle)
            if task.fixed_start is not None:
                clock.CumulVar(index).SetValue(task.fixed_start)
            continue
        clock.CumulVar(index).SetRange(*task.window)
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
    if problem.move_cost:
        _add_stability(routing, manager, problem)
    breaks: list[Any | None] = []
    visit_times = [service[manager.IndexToNode(i)] if i < routing.Size() else 0 for i in range(routing.Size())]
    for v, vehicle in enumerate(vehicles):
        # Absences are breaks that cannot move: no visit and no driving inside them.
        fixed_visits = reach_visits(problem, v)
        intervals = [
            solver.FixedDurationIntervalVar(start, start, end - start, False, f"off {vehicle.ref} {start}")
            for start, end in vehicle.unavailable
            if not any(start < visit_end and visit_start < end for visit_start, visit_end in fixed_visits)
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


def reach_visits(problem: Problem, vehicle: int) -> list[tuple[int, int]]:
    """(start, end) of the visits fixed on ``vehicle``."""
    return [
        (task.fixed_start, task.fixed_start + task.duration)
        for task in problem.tasks
        if task.fixed_vehicle == vehicle and task.fixed_start is not None
    ]


def _fixed_reach(problem: Problem) -> dict[int, tuple[int, int]]:
    """Per vehicle with fixed visits: the latest it must leave and the earliest it can be back for them."""
    reach: dict[int, tuple[int, int]] = {}
    for task in problem.tasks:
        if task.fixed_vehicle is None or task.fixed_start is None:
            continue
        vehicle = problem.vehicles[task.fixed_vehicle]
        leave = task.fixed_start - problem.matrix[vehicle.start][task.location]
        back = task.fixed_start + task.duration + problem.matrix[task.location][vehicle.end]
        earliest, latest = reach.get(task.fixed_vehicle, vehicle.shift)
        reach[task.fixed_vehicle] = (min(earliest, leave), max(latest, back))
    return reach


def _add_stability(routing: Any, manager: Any, problem: Problem) -> None:
    """Charge ``move_cost`` per planned task that a vehicle other than its current one serves: a per-vehicle
    count of "foreign" visits as a dimension whose span is priced. Vehicles with the same foreign set
    share one vector, so classes of interchangeable vehicles survive where they can."""
    planned = [(t, task.current_vehicle) for t, task in enumerate(problem.tasks)
               if task.current_vehicle is not None and task.fixed_vehicle is None]  # fmt: skip
    if not planned:
        return
    nodes = manager.GetNumberOfNodes()
    registered: dict[tuple[int, ...], int] = {}
    evaluators = []
    for v in range(len(problem.vehicles)):
        foreign = [0] * nodes
        for t, current in planned:
            if current != v:
                foreign[t] = 1
        key = tuple(t for t, current in planned if current == v)
        if key not in registered:
            registered[key] = routing.RegisterUnaryTransitVector(foreign)
        evaluators.append(registered[key])
    routing.AddDimensionWithVehicleTransits(evaluators, 0, len(problem.tasks), True, "moves")
    routing.GetDimensionOrDie("moves").SetSpanCostCoefficientForAllVehicles(problem.move_cost)


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
        return matrix[locations[int(manager.IndexToNode(i))]][locations[int(manager.IndexToNode(j))]]

    def duration(i: int, j: int) -> int:
        node = int(manager.IndexToNode(i))
        return service[node] + matrix[locations[node]][locations[int(manager.IndexToNode(j))]]

    return routing.RegisterTransitCallback(travel), routing.RegisterTransitCallback(duration)


_FIRST = routing_enums_pb2.FirstSolutionStrategy
# The portfolio, best first. Our regret construction serves most on over-full field days; of OR-Tools'
# own, PATH_CHEAPEST_ARC finds nothing on tight windows, these always found a start on the benchmark
# instances, and which one ends best differs from instance to instance.
REGRET = "REGRET"  # our own construction (``construction.construct``), seeded
STRATEGIES = (REGRET, "PARALLEL_CHEAPEST_INSERTION", "CHRISTOFIDES", "LOCAL_CHEAPEST_INSERTION")
CONSTRUCTION_SHARE = 0.3  # at most this share of the time limit goes to our construction
RESTORE_SHARE = 0.2  # ...and this much to loading a starting plan into the solver


def _parameters(time_limit_s: float, strategy: str = "PARALLEL_CHEAPEST_INSERTION") -> Any:
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = getattr(_FIRST, strategy)
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    parameters.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    return parameters


def _extract(model: _Model, assignment: Any, seconds: float) -> Solution:
    problem, manager, routing, clock = model.problem, model.manager, model.routing, model.time
    status = _STATUS.get(routing.status(), SolveStatus.UNKNOWN)
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
    returns = tuple(assignment.Value(clock.CumulVar(routing.End(v))) for v in range(len(problem.vehicles)))
    return Solution(
        tuple(routes), dropped, travel, status, seconds, tuple(breaks), returns, assignment.ObjectiveValue()
    )


def solve_one(problem: Problem, time_limit_s: float, strategy: str = STRATEGIES[0], seed: int = 0) -> Solution:
    """One search: a first solution by ``strategy``, then guided local search until the time limit."""
    started = time.perf_counter()
    if not problem.vehicles:  # nobody works that day: a valid plan in which nothing can be assigned
        return Solution((), tuple(range(len(problem.tasks))), 0, SolveStatus.FEASIBLE, 0.0)
    try:
        model = _build(problem)
    except Exception as failure:  # noqa: BLE001 - the CP solver fails a contradictory model while it is built
        seconds = time.perf_counter() - started
        return Solution((), tuple(range(len(problem.tasks))), 0, SolveStatus.INFEASIBLE, seconds, detail=str(failure))
    routes = None
    if problem.max_moves is not None:  # the current plan has no moves: search from it, within the bound
        routes = _current_routes(problem)
    elif strategy == REGRET:
        routes = construct(problem, seed=seed, deadline=time.monotonic() + time_limit_s * CONSTRUCTION_SHARE)
    # Without a start of ours (fixed visits the construction cannot follow), OR-Tools' default builds one.
    parameters = _parameters(_left(started, time_limit_s), STRATEGIES[1] if strategy == REGRET else strategy)
    start = None
    if routes is not None:
        # Loading a start places every break and cumul by search, under the LNS time limit (0.1 s by
        # default): on a big day with breaks that takes seconds, and the start would be lost.
        parameters.lns_time_limit.FromMilliseconds(max(100, int(time_limit_s * 1000 * RESTORE_SHARE)))
        model.routing.CloseModelWithParameters(parameters)
        start = model.routing.ReadAssignmentFromRoutes(_indexes(model, routes), True)
        parameters.time_limit.FromMilliseconds(int(_left(started, time_limit_s) * 1000))
    if start is not None:
        assignment = model.routing.SolveFromAssignmentWithParameters(start, parameters)
    else:
        assignment = model.routing.SolveWithParameters(parameters)
    return _extract(model, assignment, time.perf_counter() - started)


def _left(started: float, time_limit_s: float) -> float:
    return max(0.1, time_limit_s - (time.perf_counter() - started))


def _indexes(model: _Model, routes: list[list[int]]) -> list[list[int]]:
    return [[model.manager.NodeToIndex(t) for t in route] for route in routes]


def accepts(problem: Problem, routes: list[list[int]]) -> bool:
    """Whether the solver's model takes ``routes`` (task indexes per vehicle) as a plan."""
    model = _build(problem)
    parameters = _parameters(10.0)
    parameters.lns_time_limit.FromSeconds(10)
    model.routing.CloseModelWithParameters(parameters)
    return model.routing.ReadAssignmentFromRoutes(_indexes(model, routes), True) is not None


def _current_routes(problem: Problem) -> list[list[int]]:
    """The plan as it stands, as task indexes per vehicle in order of start."""
    routes: list[list[int]] = [[] for _ in problem.vehicles]
    planned = sorted(
        (task.current_start or 0, t, task.current_vehicle)
        for t, task in enumerate(problem.tasks)
        if task.current_vehicle is not None
    )
    for _, t, vehicle in planned:
        assert vehicle is not None
        routes[vehicle].append(t)
    return routes


def solve(problem: Problem, *, time_limit_s: float = 10.0, seed: int = 0, workers: int | None = None) -> Solution:
    """The best plan found within the time limit.

    Routing search is single-threaded, so parallelism comes from processes: each worker runs a different
    first-solution strategy for the whole time limit, and the best plan wins (the least objective, the
    same model in every run: priority-weighted drops, then travel, moves and overtime). ``workers``
    defaults to the CPU count, at most one per strategy; 1 runs in this process. ``seed`` seeds our
    construction: the same seed builds the same start.
    """
    count = max(1, min(workers or os.cpu_count() or 1, len(STRATEGIES)))
    if count == 1 or not problem.vehicles:
        return solve_one(problem, time_limit_s, STRATEGIES[0], seed)
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold SQLite handles
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        runs = list(pool.map(solve_one, [problem] * count, [time_limit_s] * count, STRATEGIES[:count], [seed] * count))
    usable = [r for r in runs if r.objective is not None] or runs
    best = min(usable, key=lambda r: (r.objective or 0, r.travel))  # the same model in every run: comparable
    return replace(best, solve_seconds=time.perf_counter() - started)
