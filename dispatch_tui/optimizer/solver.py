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

import time
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

    def travel(i: int, j: int) -> int:
        return matrix[locations[manager.IndexToNode(i)]][locations[manager.IndexToNode(j)]]

    def duration(i: int, j: int) -> int:
        node = manager.IndexToNode(i)
        return service[node] + matrix[locations[node]][locations[manager.IndexToNode(j)]]

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(travel))
    horizon = max([v.shift[1] for v in vehicles] + [t.window[1] + t.duration for t in tasks] + [0]) + 1
    routing.AddDimension(routing.RegisterTransitCallback(duration), horizon, horizon, False, "time")
    clock = routing.GetDimensionOrDie("time")
    for v, vehicle in enumerate(vehicles):
        clock.CumulVar(routing.Start(v)).SetRange(*vehicle.shift)
        clock.CumulVar(routing.End(v)).SetRange(*vehicle.shift)
        routing.AddVariableMinimizedByFinalizer(clock.CumulVar(routing.End(v)))
    if any(v.capacity is not None for v in vehicles):
        demand = [t.demand for t in tasks] + [0] * len(depots)
        load = routing.RegisterUnaryTransitCallback(lambda i: demand[manager.IndexToNode(i)])
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

    breaks: list[Any | None] = []
    solver = routing.solver()
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


def _parameters(time_limit_s: float) -> Any:
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    # PATH_CHEAPEST_ARC finds nothing on tight windows (DESIGN.md); parallel cheapest insertion always does.
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
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


def solve(problem: Problem, *, time_limit_s: float = 10.0, seed: int = 0) -> Solution:
    """The best plan found within the time limit (``seed`` is reserved for randomised strategies)."""
    started = time.perf_counter()
    if not problem.vehicles:
        return Solution((), tuple(range(len(problem.tasks))), 0, "no vehicles", 0.0)
    model = _build(problem)
    assignment = model.routing.SolveWithParameters(_parameters(time_limit_s))
    return _extract(model, assignment, time.perf_counter() - started)
