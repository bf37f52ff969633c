"""The solver on small line-world problems whose right answers can be checked by hand.

Locations are points on a line (index i at x = 10 i); driving takes one unit per unit of distance.
"""

from __future__ import annotations

from typing import Any

import pytest

from dispatch_tui.optimizer.problem import Problem, Task, Vehicle
from dispatch_tui.optimizer.solver import drop_penalties, solve

XS = [0, 10, 20, 30, 40, 50]
MATRIX = [[abs(a - b) for b in XS] for a in XS]
DAY = (480, 1020)  # 08:00-17:00


def tech(ref: str, *skills: str, **kw: Any) -> Vehicle:
    return Vehicle(ref, 0, 0, DAY, frozenset(skills), **kw)


def job(ref: str, location: int, skill: str = "hvac", minutes: int = 60, window: tuple[int, int] = (480, 960),
        **kw: Any) -> Task:  # fmt: skip
    return Task(ref, location, minutes, window, skill, **kw)


def plan(problem: Problem) -> dict[str, list[tuple[str, int]]]:
    solution = solve(problem, time_limit_s=1)
    assert solution.status in ("feasible", "optimal"), solution.status
    return {
        problem.vehicles[v].ref: [(problem.tasks[visit.task].ref, visit.start) for visit in route]
        for v, route in enumerate(solution.routes)
    }


def test_skills_windows_and_travel() -> None:
    problem = Problem(MATRIX, (tech("A", "hvac"), tech("B", "plumbing")),
                      (job("J1", 1), job("J2", 2, "plumbing"), job("J3", 3, window=(700, 720))))  # fmt: skip
    routes = plan(problem)
    assert [ref for ref, _ in routes["B"]] == ["J2"]
    assert sorted(ref for ref, _ in routes["A"]) == ["J1", "J3"]
    assert dict(routes["A"])["J3"] in range(700, 721)
    j1, j3 = dict(routes["A"])["J1"], dict(routes["A"])["J3"]
    assert j1 + 60 + 20 <= j3  # J1 ends, then 20 units to J3


def test_an_over_full_day_keeps_every_emergency_and_drops_low_priority_first() -> None:
    # One technician, room for about 4 one-hour jobs; 3 emergencies and 4 low-priority jobs.
    short_day = Vehicle("A", 0, 0, (480, 780), frozenset({"hvac"}))
    tasks = tuple(job(f"P1-{i}", i, priority=1) for i in (1, 3, 5)) + tuple(
        job(f"P4-{i}", i, priority=4) for i in (1, 2, 4, 5)
    )
    solution = solve(Problem(MATRIX, (short_day,), tasks), time_limit_s=1)
    served = {tasks[v.task].ref for v in solution.routes[0]}
    assert {"P1-1", "P1-3", "P1-5"} <= served
    assert all(tasks[t].priority == 4 for t in solution.dropped) and solution.dropped


def test_penalties_are_lexicographic() -> None:
    problem = Problem(MATRIX, (tech("A"),), tuple(job(f"J{i}", 1) for i in range(10)))
    penalty = drop_penalties(problem)
    assert penalty[1] > 10 * penalty[2] > 100 * penalty[3] > 1000 * penalty[4] > 0


def test_a_fixed_task_keeps_its_vehicle_and_start() -> None:
    problem = Problem(MATRIX, (tech("A", "hvac"), tech("B", "hvac")),
                      (job("LOCKED", 5, fixed_vehicle=1, fixed_start=600), job("J2", 5)))  # fmt: skip
    routes = plan(problem)
    assert ("LOCKED", 600) in routes["B"]


def test_no_work_or_driving_during_an_absence_and_the_break_is_placed_in_its_span() -> None:
    absent = tech("A", "hvac", unavailable=((540, 840),), break_=(720, 810, 30))  # off 09:00-14:00
    solution = solve(Problem(MATRIX, (absent,), (job("J1", 1, minutes=30), job("J2", 3, minutes=30))), time_limit_s=1)
    starts = [visit.start for visit in solution.routes[0]]
    assert len(starts) == 2
    assert all(start + 30 <= 540 or start >= 840 for start in starts)
    assert solution.breaks[0] is not None and 720 <= solution.breaks[0][0] <= 810


@pytest.mark.parametrize("vehicles", [()])
def test_no_vehicles_means_everything_dropped(vehicles: tuple[Vehicle, ...]) -> None:
    solution = solve(Problem(MATRIX, vehicles, (job("J1", 1),)), time_limit_s=1)
    assert solution.dropped == (0,)


def test_a_search_stopped_by_its_time_limit_still_returns_its_plan() -> None:
    # Large enough that guided local search is still improving when the time runs out (OR-Tools reports
    # "partial success, local optimum not reached"): that is a usable plan, not a failure.
    xs = [(i * 37) % 101 for i in range(121)]
    matrix = [[abs(a - b) for b in xs] for a in xs]
    vehicles = tuple(Vehicle(f"V{v}", 0, 0, DAY, frozenset({"hvac"})) for v in range(8))
    tasks = tuple(Task(f"J{i}", i, 20, (480, 1000), "hvac") for i in range(1, 121))
    solution = solve(Problem(matrix, vehicles, tasks), time_limit_s=0.5)
    assert solution.status == "feasible"
    assert sum(len(route) for route in solution.routes) + len(solution.dropped) == 120
    assert sum(len(route) for route in solution.routes) >= 100


def test_a_visit_forced_outside_its_window_and_shift_stays_where_it_was_forced() -> None:
    # A dispatcher forced LOCKED to 17:30, after its window and the shift: the day is still planned.
    forced = job("LOCKED", 5, window=(480, 600), fixed_vehicle=0, fixed_start=1050)
    routes = plan(Problem(MATRIX, (tech("A", "hvac", unavailable=((1040, 1100),)),), (forced, job("J2", 3))))
    assert routes["A"] == [("J2", routes["A"][0][1]), ("LOCKED", 1050)]


def test_a_move_cost_keeps_planned_work_with_its_technician_unless_the_saving_is_larger() -> None:
    # J1 at x=10 is planned on B, who lives at x=30; A lives at 0 and has J0 there. Moving J1 to A saves
    # B's 40 units and costs A 20: a net saving of 20.
    vehicles = (Vehicle("A", 0, 0, DAY, frozenset({"hvac"})), Vehicle("B", 3, 3, DAY, frozenset({"hvac"})))
    tasks = (job("J1", 1, current_vehicle=1, current_start=600), job("J0", 0, minutes=30))
    cheap = plan(Problem(MATRIX, vehicles, tasks))
    sticky = plan(Problem(MATRIX, vehicles, tasks, move_cost=100))
    assert sorted(ref for ref, _ in cheap["A"]) == ["J0", "J1"]  # moved for a net 20
    assert [ref for ref, _ in sticky["B"]] == ["J1"]  # a saving of 20 < 100: stays with B


def test_overtime_serves_more_within_its_cap_and_is_reported() -> None:
    # Five one-hour jobs at x=10 for a 4-hour shift: 3 fit (20 units of driving); with 2 h of overtime, 5 fit.
    short = (480, 720)
    tasks = tuple(job(f"J{i}", 1, window=(480, 900)) for i in range(5))
    strict = solve(Problem(MATRIX, (Vehicle("A", 0, 0, short, frozenset({"hvac"})),), tasks), time_limit_s=1)
    assert len(strict.dropped) == 2 and strict.overtime(Problem(MATRIX, (), ())) == 0
    allowed = Problem(MATRIX, (Vehicle("A", 0, 0, short, frozenset({"hvac"}), overtime=120),), tasks, overtime_cost=1)
    solution = solve(allowed, time_limit_s=1)
    assert solution.dropped == ()
    assert 0 < solution.overtime(allowed) <= 120
    assert solution.returns[0] == max(v.start for v in solution.routes[0]) + 60 + 10
