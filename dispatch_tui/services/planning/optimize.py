"""Re-planning a day with the optimizer: build the problem from the store, solve, diff, apply.

Placed jobs that are locked or under way (dispatched jobs that are en route, on site, done) stay fixed;
scheduled and dispatched jobs may move; waiting jobs whose window opens that day may be added. Applying
writes the whole plan in one transaction with optimizer-origin events; a job whose version changed
while the solver ran (a dispatcher touched it) is left as the dispatcher set it, and reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from dispatch_tui.domain import MOVABLE, AppointmentOrigin, ChangeKind, JobStatus
from dispatch_tui.localtime import local_moment
from dispatch_tui.optimizer.problem import Problem, Solution, SolveStatus, Task, Vehicle
from dispatch_tui.services.errors import Refused
from dispatch_tui.services.jobs import record_change
from dispatch_tui.services.notify.outbox import PlannedVisit
from dispatch_tui.services.planning.assignment import retravel
from dispatch_tui.services.planning.day_plan import DayPlan, job_spec, load_day
from dispatch_tui.services.planning.scheduling import BREAK_SLIDE_MINUTES, Point, TechDay, Travel
from dispatch_tui.store.models import Appointment, Job, Technician

if TYPE_CHECKING:
    from dispatch_tui.config import Settings

Matrix = Callable[[Sequence[Point]], list[list[int]]]
ACTOR = "optimizer"


@dataclass(frozen=True)
class Placement:
    tech_ref: str
    start: int  # minutes in the day's frame


@dataclass(frozen=True)
class JobInPlay:
    ref: str
    version: int
    status: str
    before: Placement | None
    fixed: bool


@dataclass(frozen=True)
class Policy:
    """How freely a re-plan may change things (settings, overridden per run)."""

    max_moves: int | None = None  # at most this many planned jobs change technician or leave the plan
    move_cost: int = 0  # minutes of driving a move must save
    overtime_minutes: int = 0  # past the shift end, per technician
    overtime_cost: int = 2  # per minute of overtime, in minutes of driving

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        max_moves: int | None = None,
        move_cost: int | None = None,
        overtime_minutes: int | None = None,
    ) -> Policy:
        """The configured policy; a run's own options (not None) take precedence."""
        return cls(
            max_moves=max_moves,
            move_cost=settings.optimizer_move_cost if move_cost is None else move_cost,
            overtime_minutes=settings.optimizer_overtime_minutes if overtime_minutes is None else overtime_minutes,
            overtime_cost=settings.optimizer_overtime_cost,
        )


@dataclass(frozen=True)
class Figures:
    """What a plan costs: minutes driven, worked past shift ends, and arriving after promised windows."""

    travel: int
    overtime: int
    lateness: int


@dataclass
class Built:
    plan: DayPlan
    problem: Problem
    jobs: dict[str, JobInPlay]  # by ref: each of problem.tasks, and what the store said of it


@dataclass(frozen=True)
class Change:
    job_ref: str
    kind: ChangeKind
    before: Placement | None
    after: Placement | None


@dataclass
class Report:
    day: date
    status: SolveStatus
    assigned: int
    unassigned: int
    before: Figures
    after: Figures
    solve_seconds: float
    changes: list[Change]
    skipped: list[str] = field(default_factory=list)  # changed by someone else during the solve

    def count(self, kind: ChangeKind) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def moved(self) -> int:
        return self.count(ChangeKind.MOVE)


def build(
    session: Session,
    day: date,
    zone: ZoneInfo,
    matrix: Matrix,
    policy: Policy | None = None,
    *,
    now: datetime | None = None,
) -> Built:
    """The day as an optimizer problem. With ``now`` inside the day, the part that has passed is history:
    visits planned to start before it stay where they are, and nothing new starts before it."""
    policy = policy or Policy()
    plan = load_day(session, day, zone)
    frame = plan.frame
    cutoff = min(max(frame.minute(now), 0), frame.length) if now is not None else 0
    days = [d for _, d in sorted(plan.days.items()) if d.shift is not None]
    vehicle_of = {d.ref: v for v, d in enumerate(days)}
    placed = {visit.job_ref: (d.ref, visit) for d in plan.days.values() for visit in d.visits}
    start, end = frame.origin, frame.instant(frame.length)
    jobs = session.exec(
        select(Job).where(
            (col(Job.ref).in_(list(placed)))
            | (
                (col(Job.status) == JobStatus.NEW.value)
                & (col(Job.window_start) >= start)
                & (col(Job.window_start) < end)
            )
        )
    ).all()
    points: list[Point] = [d.home for d in days]
    index: dict[Point, int] = {p: i for i, p in enumerate(dict.fromkeys(points))}
    points = list(index)
    tasks, in_play = [], []
    for job in sorted(jobs, key=lambda j: j.ref):
        spec = job_spec(session, job, frame)
        where = placed.get(job.ref)
        window = (max(spec.window[0], cutoff), spec.window[1])
        if where is None and window[0] > window[1]:
            continue  # its window has passed: nothing the optimizer can do today
        # Fixed: locked, under way, already in the past, or planned past its window (a forced override).
        fixed = where is not None and (
            where[1].locked or job.status not in MOVABLE or where[1].start < cutoff or window[0] > window[1]
        )
        if fixed and where is not None and where[0] not in vehicle_of:
            continue  # a fixed visit on a day off (forced earlier): leave it out of the plan entirely
        if spec.point not in index:
            index[spec.point] = len(points)
            points.append(spec.point)
        before = Placement(where[0], where[1].start) if where else None
        tasks.append(
            Task(
                ref=job.ref, location=index[spec.point], duration=spec.duration, window=window,
                skill=spec.skill, priority=job.priority,
                fixed_vehicle=vehicle_of[where[0]] if fixed and where else None,
                fixed_start=where[1].start if fixed and where else None,
                current_vehicle=vehicle_of.get(where[0]) if where else None,
                current_start=where[1].start if where else None,
            )
        )  # fmt: skip
        in_play.append(JobInPlay(job.ref, job.version, job.status, before, fixed))
    vehicles = tuple(_vehicle(d, index[d.home], policy.overtime_minutes) for d in days)
    problem = Problem(matrix(points), vehicles, tuple(tasks), max_moves=policy.max_moves, move_cost=policy.move_cost,
                      overtime_cost=policy.overtime_cost)  # fmt: skip
    return Built(plan, problem, {job.ref: job for job in in_play})


def solve(built: Built, *, time_limit_s: float, seed: int = 0) -> Solution:
    """Run the optimizer on the built problem (OR-Tools is imported only now: it is heavy)."""
    from dispatch_tui.optimizer.solver import solve as run_solver

    return run_solver(built.problem, time_limit_s=time_limit_s, seed=seed)


def _vehicle(day: TechDay, home: int, overtime: int) -> Vehicle:
    assert day.shift is not None
    shift_start, shift_end = day.shift
    has_break = day.break_start is not None and day.break_minutes
    return Vehicle(
        ref=day.ref,
        start=home,
        end=home,
        shift=day.shift,
        overtime=overtime,
        skills=day.skills,
        break_=(day.break_start, day.break_start + BREAK_SLIDE_MINUTES, day.break_minutes)
        if has_break and day.break_start is not None
        else None,
        # Absences, clipped to the shift: the rest of the day is outside it anyway.
        unavailable=tuple(
            (max(a.start, shift_start), min(a.end, shift_end)) for a in day.absences
            if min(a.end, shift_end) > max(a.start, shift_start)
        ),
    )  # fmt: skip


def figures(built: Built, placements: dict[int, Placement]) -> Figures:
    """Travel, overtime and lateness of a plan (task index -> placement), under the optimizer's matrix:
    the same measure for the plan as it stands and for the optimizer's, so that before -> after compares."""
    problem = built.problem
    by_vehicle: dict[str, list[tuple[int, int]]] = {}
    lateness = 0
    for t, placement in placements.items():
        task = problem.tasks[t]
        by_vehicle.setdefault(placement.tech_ref, []).append((placement.start, t))
        lateness += max(0, placement.start - task.window[1])
    travel = overtime = 0
    for vehicle in problem.vehicles:
        stops = sorted(by_vehicle.get(vehicle.ref, []))
        if not stops:
            continue
        path = [vehicle.start, *(problem.tasks[t].location for _, t in stops), vehicle.end]
        travel += sum(problem.matrix[a][b] for a, b in pairwise(path))
        last_start, last = stops[-1]
        back = last_start + problem.tasks[last].duration + problem.matrix[problem.tasks[last].location][vehicle.end]
        overtime += max(0, back - vehicle.shift[1])
    return Figures(travel, overtime, lateness)


def current_plan(built: Built) -> dict[int, Placement]:
    placed = ((t, built.jobs[task.ref].before) for t, task in enumerate(built.problem.tasks))
    return {t: before for t, before in placed if before is not None}


def diff(built: Built, solution: Solution, day: date) -> Report:
    after: dict[int, Placement] = {}
    for v, route in enumerate(solution.routes):
        for visit in route:
            after[visit.task] = Placement(built.problem.vehicles[v].ref, visit.start)
    changes = []
    for t, task in enumerate(built.problem.tasks):
        job, new = built.jobs[task.ref], after.get(t)
        if job.before is None and new is not None:
            changes.append(Change(job.ref, ChangeKind.ADD, None, new))
        elif job.before is not None and new is None:
            changes.append(Change(job.ref, ChangeKind.DROP, job.before, None))
        elif job.before is not None and new is not None and job.before != new:
            kind = ChangeKind.MOVE if job.before.tech_ref != new.tech_ref else ChangeKind.RETIME
            changes.append(Change(job.ref, kind, job.before, new))
    return Report(
        day=day, status=solution.status, assigned=len(after), unassigned=len(solution.dropped),
        before=figures(built, current_plan(built)), after=figures(built, after), solve_seconds=solution.solve_seconds,
        changes=changes,
    )  # fmt: skip


def apply(session: Session, built: Built, report: Report, zone: ZoneInfo, travel: Travel) -> Report:
    """Write the changes in the caller's transaction. Jobs changed since ``build`` are skipped, and said."""
    frame = built.plan.frame
    versions = {ref: job.version for ref, job in built.jobs.items()}
    durations = {task.ref: task.duration for task in built.problem.tasks}
    techs = {t.ref: t for t in session.exec(select(Technician))}
    touched: dict[str, datetime] = {}
    for change in report.changes:
        job = session.exec(select(Job).where(Job.ref == change.job_ref)).one()
        if job.version != versions[change.job_ref]:
            report.skipped.append(f"{job.ref} was changed while the optimizer ran: left as it was set")
            continue
        appointment = session.exec(select(Appointment).where(Appointment.job_id == job.id)).first()
        if change.after is None:
            assert appointment is not None
            record_change(session, job, JobStatus.NEW.value, ACTOR, "taken off the plan by the optimizer: no room")
            touched[techs_ref(session, appointment)] = appointment.start
            session.delete(appointment)
            continue
        tech = techs[change.after.tech_ref]
        start = frame.instant(change.after.start)
        end = start + timedelta(minutes=durations[job.ref])
        if appointment is None:
            record_change(
                session,
                job,
                JobStatus.SCHEDULED.value,
                ACTOR,
                f"planned by the optimizer: {tech.ref} {_hm(start, zone)}",
                visit=PlannedVisit(start, tech.name, zone),
            )
            session.add(Appointment(job_id=job.id or 0, technician_id=tech.id or 0, start=start, end=end,
                                    origin=AppointmentOrigin.OPTIMIZER.value))  # fmt: skip
        else:
            old = techs_ref(session, appointment)
            note = f"moved by the optimizer from {old} {_hm(appointment.start, zone)} to {tech.ref} {_hm(start, zone)}"
            record_change(session, job, job.status, ACTOR, note, visit=PlannedVisit(start, tech.name, zone))
            touched[old] = appointment.start
            appointment.technician_id, appointment.start, appointment.end = tech.id or 0, start, end
            appointment.origin = AppointmentOrigin.OPTIMIZER.value
            session.add(appointment)
        touched[tech.ref] = start
    session.flush()
    for ref, when in touched.items():
        retravel(session, techs[ref], when, zone, travel)
    return report


class NoPlan(Exception):
    """The solver found no plan for a day: nothing of that run was written."""


def optimize_days(
    session: Session,
    first: date,
    days: int,
    zone: ZoneInfo,
    matrix: Matrix,
    policy: Policy,
    *,
    time_limit_s: float,
    seed: int = 0,
    now: datetime | None = None,
    write_with: Travel | None = None,
    run_solve: Callable[[date, Callable[[], Solution]], Solution] | None = None,
) -> list[tuple[Built, Report]]:
    """The optimize pipeline, for `dispatch optimize` and the console's preview alike: for each day in
    turn, build → solve → check → diff, and with ``write_with`` (the travel model) apply it in
    ``session`` before the next day is built from the store. The caller holds the run lock when writing,
    and commits. ``run_solve(day, solve)`` may wrap each solve (a progress bar). Raises ``NoPlan``, and
    ``Refused`` for a day before today: it is over, nothing can be planned into it."""
    if now is not None and first < (today := now.astimezone(zone).date()):
        raise Refused([_day_over(session, first, today, now, zone)])
    results: list[tuple[Built, Report]] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        built = build(session, day, zone, matrix, policy, now=now)
        solve_it = partial(solve, built, time_limit_s=time_limit_s, seed=seed)
        solution = run_solve(day, solve_it) if run_solve else solve_it()
        if not solution.ok:
            why = f"{solution.status}: {solution.detail}" if solution.detail else solution.status
            raise NoPlan(f"the optimizer found no plan for {day} ({why})")
        report = diff(built, solution, day)
        if write_with is not None:
            apply(session, built, report, zone, write_with)
            session.flush()
        results.append((built, report))
    return results


def _day_over(session: Session, day: date, today: date, now: datetime, zone: ZoneInfo) -> str:
    waiting = session.exec(
        select(func.count()).select_from(Job).where(Job.status == JobStatus.NEW.value, col(Job.window_end) > now)
    ).one()
    still = f"{waiting} request(s) can still be planned: " if waiting else ""
    return (f"{day:%a %d %b} is over (it is {local_moment(now, zone)}): nothing can be planned into it; "
            f"{still}dispatch optimize --date {today.isoformat()} plans today from now on, or a later day")  # fmt: skip


def techs_ref(session: Session, appointment: Appointment) -> str:
    tech = session.get(Technician, appointment.technician_id)
    assert tech is not None
    return tech.ref


def _hm(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%H:%M")
