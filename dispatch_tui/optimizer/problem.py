"""The optimizer's problem and solution: plain integers, no store, no solver types.

Time is in integer units (minutes for a field-service day; scaled distance for benchmark instances),
and travel between locations is one square matrix of those units. Built by the services from the store,
solved by ``solver.solve``, read back by the services: keeping the three apart keeps each testable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class SolveStatus(StrEnum):
    """How a search ended, in a user's words (the schedule's and `dispatch optimize --json`'s ``status``)."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # the best plan within the time limit
    NOT_SOLVED = "not solved"
    NO_SOLUTION = "no solution"
    NO_SOLUTION_IN_TIME = "no solution in time"
    INVALID = "invalid model"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"  # a status this version of the solver library added


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One technician-day: leaves ``start``, comes back to ``end`` (location indexes) within ``shift``."""

    ref: str
    start: int
    end: int
    shift: tuple[int, int]
    skills: frozenset[str] = frozenset()
    # (earliest start, latest start, duration) of the break; None: no break
    break_: tuple[int, int, int] | None = None
    capacity: int | None = None  # benchmark instances only; field service has none
    unavailable: tuple[tuple[int, int], ...] = ()  # absences inside the shift: no work, no driving
    overtime: int = 0  # may come home up to this many units after the shift ends, at Problem.overtime_cost each


@dataclass(frozen=True, slots=True)
class Task:
    ref: str
    location: int
    duration: int
    window: tuple[int, int]  # when service may start
    skill: str | None = None
    priority: int = 3  # 1 emergency ... 4 low
    demand: int = 0  # benchmark instances only
    # Locked by a dispatcher, or already under way: stays on this vehicle at this start.
    fixed_vehicle: int | None = None
    fixed_start: int | None = None
    current_vehicle: int | None = None  # where it is planned now, and from when: the current plan,
    current_start: int | None = None  # which is also a starting point for the search


@dataclass(frozen=True)
class Problem:
    matrix: list[list[int]]
    vehicles: tuple[Vehicle, ...]
    tasks: tuple[Task, ...]
    max_moves: int | None = None  # at most this many planned tasks may leave their current vehicle
    # Stability: what serving a planned task on another vehicle costs, in travel units (a move must save
    # more driving than this). Overtime: cost per unit worked after a vehicle's shift end (within its cap).
    move_cost: int = 0
    overtime_cost: int = 0


@dataclass(frozen=True)
class Visit:
    task: int  # index into Problem.tasks
    start: int


@dataclass(frozen=True)
class Solution:
    routes: tuple[tuple[Visit, ...], ...]  # one per vehicle, in visiting order
    dropped: tuple[int, ...]  # task indexes left out
    travel: int  # sum of the matrix entries driven
    status: SolveStatus
    solve_seconds: float
    breaks: tuple[tuple[int, int] | None, ...] = field(default=())  # (start, end) per vehicle
    returns: tuple[int, ...] = field(default=())  # when each vehicle is back at its end location
    objective: int | None = None  # the solver's objective (travel, drops, moves, overtime); None: no plan
    detail: str = ""  # why, when the model itself could not be built

    @property
    def ok(self) -> bool:
        """A plan was found (proved optimal, or the best within the time limit)."""
        return self.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)

    def overtime(self, problem: Problem) -> int:
        """Units worked after shift ends, over all vehicles that went out."""
        return sum(
            max(0, back - vehicle.shift[1])
            for vehicle, back, route in zip(problem.vehicles, self.returns, self.routes, strict=False)
            if route
        )
