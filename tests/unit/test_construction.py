"""Our regret construction: what it builds the solver always accepts, emergencies first, seeded, the
current plan kept, and big days decomposed by where technicians live."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch_tui.optimizer.construction import GROUP_TASKS, construct
from dispatch_tui.optimizer.problem import Problem, Task, Vehicle
from dispatch_tui.optimizer.solver import accepts

SKILLS = ("hvac", "plumbing")


def line_matrix(xs: list[int]) -> list[list[int]]:
    return [[abs(a - b) for b in xs] for a in xs]


@st.composite
def days(draw: st.DrawFn) -> Problem:
    """Small random days on a line: windows, skills, breaks, absences and overtime."""
    places = draw(st.lists(st.integers(0, 60), min_size=3, max_size=10))
    vehicles = []
    for v in range(draw(st.integers(1, 3))):
        start = draw(st.integers(420, 540))
        end = start + draw(st.integers(180, 540))
        brk = draw(st.one_of(st.none(), st.tuples(st.just(720), st.just(810), st.sampled_from([15, 30]))))
        off = draw(st.one_of(st.just(()), st.tuples(st.tuples(st.just(600), st.integers(630, 700)))))
        skills = frozenset(draw(st.sets(st.sampled_from(SKILLS), min_size=1)))
        overtime = draw(st.sampled_from([0, 30]))
        vehicles.append(Vehicle(f"V{v}", 0, 0, (start, end), skills, break_=brk, unavailable=off, overtime=overtime))
    tasks = []
    for t in range(draw(st.integers(1, 14))):
        opens = draw(st.integers(420, 900))
        tasks.append(Task(f"J{t}", draw(st.integers(1, len(places) - 1)), draw(st.sampled_from([15, 30, 60, 90])),
                          (opens, opens + draw(st.integers(0, 240))), draw(st.sampled_from(SKILLS)),
                          draw(st.integers(1, 4))))  # fmt: skip
    return Problem(line_matrix(places), tuple(vehicles), tuple(tasks))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=days(), seed=st.integers(0, 3))
def test_the_solver_accepts_every_plan_it_builds(problem: Problem, seed: int) -> None:
    routes = construct(problem, seed=seed)
    assert routes is not None
    served = [t for route in routes for t in route]
    assert len(served) == len(set(served))
    for v, route in enumerate(routes):
        assert all(problem.tasks[t].skill in problem.vehicles[v].skills for t in route)
    assert accepts(problem, routes), routes


def test_emergencies_go_in_before_low_priority_work_on_a_full_day() -> None:
    # One technician, four hours, eight one-hour jobs at the same place: four fit, and they are the P1s.
    matrix = line_matrix([0, 5])
    vehicle = Vehicle("A", 0, 0, (480, 720), frozenset({"hvac"}))
    tasks = tuple(Task(f"J{i}", 1, 50, (480, 700), "hvac", priority=4 if i % 2 else 1) for i in range(8))
    routes = construct(Problem(matrix, (vehicle,), tasks))
    assert routes is not None
    assert sorted(problem_priority for problem_priority in (tasks[t].priority for t in routes[0])) == [1, 1, 1, 1]


def test_the_same_seed_builds_the_same_plan() -> None:
    rng = random.Random(7)
    xs = [rng.randint(0, 80) for _ in range(40)]
    vehicles = tuple(Vehicle(f"V{v}", 0, 0, (480, 1020), frozenset(SKILLS), break_=(720, 810, 30)) for v in range(4))
    tasks = tuple(Task(f"J{i}", i, 30, (480, 960), SKILLS[i % 2], priority=1 + i % 4) for i in range(1, 40))
    problem = Problem(line_matrix(xs), vehicles, tasks)
    assert construct(problem, seed=3) == construct(problem, seed=3)


def test_the_current_plan_is_kept_and_the_rest_added_around_it() -> None:
    matrix = line_matrix([0, 10, 20, 30])
    vehicles = (
        Vehicle("A", 0, 0, (480, 1020), frozenset({"hvac"})),
        Vehicle("B", 0, 0, (480, 1020), frozenset({"hvac"})),
    )
    tasks = (
        Task("ON-B-1", 1, 60, (480, 960), "hvac", current_vehicle=1, current_start=500),
        Task("ON-B-2", 3, 60, (480, 960), "hvac", current_vehicle=1, current_start=700),
        Task("NEW", 2, 60, (480, 960), "hvac"),
    )
    routes = construct(Problem(matrix, vehicles, tasks))
    assert routes is not None
    assert [t for t in routes[1] if t in (0, 1)] == [0, 1]  # both stay on B, in their order
    assert 2 in routes[0] + routes[1]


def test_a_big_day_is_built_town_by_town() -> None:
    # Two towns 200 units apart, four technicians living in each, jobs in each: decomposed (more jobs than
    # one group takes), and every job served goes to a technician of its own town.
    rng = random.Random(1)
    east, west = [rng.randint(0, 20) for _ in range(150)], [rng.randint(200, 220) for _ in range(150)]
    xs = [0, 200, *east, *west]
    vehicles = tuple(Vehicle(f"E{v}", 0, 0, (480, 1020), frozenset({"hvac"})) for v in range(4)) + tuple(
        Vehicle(f"W{v}", 1, 1, (480, 1020), frozenset({"hvac"})) for v in range(4)
    )
    tasks = tuple(Task(f"J{i}", i, 20, (480, 960), "hvac", priority=1 + i % 4) for i in range(2, len(xs)))
    assert len(tasks) > GROUP_TASKS
    problem = Problem(line_matrix(xs), vehicles, tasks)
    routes = construct(problem)
    assert routes is not None and accepts(problem, routes)
    for v, route in enumerate(routes):
        home_x = xs[vehicles[v].start]
        assert all(abs(xs[tasks[t].location] - home_x) <= 20 for t in route)
    assert sum(len(route) for route in routes) >= 8 * 12  # about a dozen 20-min jobs a day each, at least
