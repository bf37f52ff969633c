"""The dispatcher board's read side: the queue, the team, the day's grid, details and alerts.

Plain dataclasses out, no UI: the console renders them, tests read them. Everything is computed for an
explicit ``now`` so that a screen (and its tests) can fix the clock. Queries fetch plain columns, not
ORM objects: the queue of 10,000 requests loads in tens of milliseconds.

Two ways to stay cheap with a long queue: a waiting request's alerts follow from its own row
(``RequestRow.alerted``, messages worded only when shown), so only the planned work's alerts are
queried; and after one write, ``load_patch`` reads back just what it touched (the job's queue row,
its technicians' rows) for ``Board.patched`` to apply, instead of the whole board.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlmodel import Session, col

from dispatch_tui.domain import FINISHED, AlertKind, DeliveryState, JobSource, JobStatus
from dispatch_tui.services.execution.actual_times import actual_span, actual_times
from dispatch_tui.services.execution.lateness import (
    LATE_GRACE_MINUTES,
    TechProjection,
    late_list,
    project_plan,
    running_late,
)
from dispatch_tui.services.execution.queries import list_technicians
from dispatch_tui.services.notify.queries import MessageRow, list_messages
from dispatch_tui.services.planning.day_plan import load_day
from dispatch_tui.services.planning.promises import broken_promises
from dispatch_tui.services.planning.scheduling import DayFrame, Travel, break_slot
from dispatch_tui.store.models import (
    Appointment,
    Customer,
    Delivery,
    Job,
    JobEvent,
    Notice,
    Site,
    Skill,
    Technician,
)
from dispatch_tui.travel.model import HaversineModel

QUEUED = (JobStatus.NEW.value, JobStatus.ON_HOLD.value)  # unscheduled work: the requests queue
PLANNED_NOT_STARTED = (JobStatus.SCHEDULED.value, JobStatus.DISPATCHED.value)
STRAIGHT_LINE = HaversineModel().minutes  # the default travel model, for callers without a configured one
DUE_SOON_MINUTES = 60  # a queued job whose due time is this close is shown as urgent
FAILED_MESSAGES_KEPT = timedelta(days=2)  # a finished job's failed messages are alerts this long after it ended
JOB_MESSAGES_SHOWN = 20  # the newest messages of a job its detail lists


@dataclass(frozen=True, slots=True)
class RequestFilter:
    skill: str | None = None
    source: str | None = None
    status: str | None = None
    text: str = ""

    @classmethod
    def parse(cls, query: str) -> RequestFilter:
        """'skill:boiler source:web oak' → skill, source (and status) terms plus free text on ref/customer/address."""
        terms: dict[str, str] = {}
        words = []
        for word in query.split():
            key, sep, value = word.partition(":")
            if sep and key.lower() in ("skill", "source", "status") and value:
                terms[key.lower()] = value.lower()
            else:
                words.append(word)
        return cls(terms.get("skill"), terms.get("source"), terms.get("status"), " ".join(words).lower())

    def problems(self, skills: Collection[str]) -> list[str]:
        """Terms naming nothing that exists ('unknown skill foo (skills: boiler, hvac)'): said, never shown
        as an empty queue."""
        known = {
            "skill": sorted({skill.lower() for skill in skills}),
            "source": [source.value for source in JobSource],
            "status": [status.value for status in JobStatus],
        }
        return [
            f"unknown {key} {value} ({key}s: {', '.join(known[key])})"
            for key, value in (("skill", self.skill), ("source", self.source), ("status", self.status))
            if value and value not in known[key]
        ]

    def describe(self) -> str:
        parts = [f"{key}:{value}" for key, value in (("skill", self.skill), ("source", self.source),
                                                       ("status", self.status)) if value]  # fmt: skip
        return " ".join([*parts, self.text]).strip()


@dataclass(frozen=True, slots=True)
class RequestRow:
    ref: str
    priority: int
    skill: str
    source: str
    status: str
    customer: str
    address: str
    duration_min: int
    window_start: datetime
    window_end: datetime
    due: datetime  # due_by if given, else the end of the promised window
    waiting_minutes: int  # since the request came in
    due_in_minutes: int  # negative: past due
    window_closes_in: int  # minutes until the promised window ends; negative: it has

    @property
    def urgency(self) -> str:
        """'overdue', 'soon' (due within the hour) or 'ok': what the queue colours."""
        if self.due_in_minutes < 0:
            return "overdue"
        return "soon" if self.due_in_minutes <= DUE_SOON_MINUTES else "ok"

    @property
    def past_due(self) -> bool:
        return self.due_in_minutes < 0

    @property
    def window_at_risk(self) -> bool:
        """Still unassigned, and the promised window closes within the hour."""
        return self.status == JobStatus.NEW.value and 0 <= self.window_closes_in <= DUE_SOON_MINUTES

    @property
    def alerted(self) -> bool:
        return self.past_due or self.window_at_risk

    def sort_key(self) -> tuple[int, datetime, str]:
        """The queue's order: priority, then due time, then ref (as ``requests_queue`` sorts)."""
        return self.priority, self.due, self.ref


@dataclass(frozen=True, slots=True)
class TechRow:
    ref: str
    name: str
    status: str  # on_shift, on_break, off_shift, absent, en_route, on_site, inactive
    skills: tuple[str, ...]
    territory: str | None
    visits: int
    busy_minutes: int  # work and driving planned on the board's day
    shift_minutes: int

    @property
    def load_percent(self) -> int:
        return round(100 * self.busy_minutes / self.shift_minutes) if self.shift_minutes else 0


@dataclass(frozen=True, slots=True)
class Block:
    job_ref: str
    start: int  # minutes in the day's frame
    end: int
    travel_before: int
    status: str
    priority: int
    locked: bool
    # Running late (``lateness``): (start, end) the visit is now projected to take, in the frame's minutes;
    # None when on plan (less than the grace behind).
    projected: tuple[int, int] | None = None
    broken_promise: str = ""  # a ``promises`` kind (outside_window…) when the visit no longer keeps it


@dataclass(frozen=True, slots=True)
class GridRow:
    tech_ref: str
    name: str
    shift: tuple[int, int] | None
    break_: tuple[int, int] | None  # where the break falls on the planned day
    absences: tuple[tuple[int, int, str], ...]
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Grid:
    frame: DayFrame
    rows: list[GridRow]
    now_minute: int | None  # None when now is not on this day
    # Each technician's day projected from the live statuses (``lateness``): the blocks' projected times,
    # and today's running-late alerts when the grid shows today (read once for both).
    projections: dict[str, TechProjection] = field(default_factory=dict)

    @property
    def day(self) -> date:
        return self.frame.day


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    subject: str  # the job's or the technician's ref
    message: str


@dataclass(frozen=True)
class Board:
    """What the board shows. ``plan_alerts`` are the planned work's and the technicians' alerts; a waiting
    request's own follow from its row. A board may be ``partial``: the first page of the queue (of
    ``waiting`` requests), the grid and the team, before the rest of the queue and the alerts."""

    now: datetime
    zone: ZoneInfo
    requests: list[RequestRow]
    technicians: list[TechRow]
    grid: Grid
    plan_alerts: list[Alert]
    token: tuple[int, ...]
    skills: list[str] = field(default_factory=list)
    waiting: int = -1  # how many requests the queue holds; -1: len(requests)
    partial: bool = False

    def __post_init__(self) -> None:
        if self.waiting < 0:
            object.__setattr__(self, "waiting", len(self.requests))

    @cached_property
    def _queued(self) -> dict[str, RequestRow]:
        return {row.ref: row for row in self.requests}

    @cached_property
    def flagged(self) -> frozenset[str]:
        """Refs (jobs on the grid, technicians) with a plan alert: what the grid and the team mark."""
        return frozenset(alert.subject for alert in self.plan_alerts)

    def alerts(self) -> Iterator[Alert]:
        """Every alert, worded as they come: requests past due, then windows at risk, then the plan's."""
        for kind in (AlertKind.PAST_DUE, AlertKind.WINDOW_AT_RISK):
            for row in self.requests:
                if row.past_due if kind == AlertKind.PAST_DUE else row.window_at_risk:
                    yield from (alert for alert in request_alerts(row, self.zone, self.now) if alert.kind == kind)
        yield from self.plan_alerts

    def alert_keys(self) -> set[tuple[AlertKind, str]]:
        """(kind, subject) of every alert, without wording any: for telling new alerts from known ones."""
        keys = {(alert.kind, alert.subject) for alert in self.plan_alerts}
        for row in self.requests:
            if row.past_due:
                keys.add((AlertKind.PAST_DUE, row.ref))
            if row.window_at_risk:
                keys.add((AlertKind.WINDOW_AT_RISK, row.ref))
        return keys

    def alerts_for(self, ref: str) -> list[Alert]:
        row = self._queued.get(ref)
        own = request_alerts(row, self.zone, self.now) if row is not None else []
        return own + [a for a in self.plan_alerts if a.subject == ref]

    def patched(self, patch: Patch) -> Board:
        """This board with one write's read-back applied: the job's queue row, its technicians' rows and
        their alerts replaced. The token stays, so the next change-token check still reconciles."""
        touched = set(patch.job_refs)
        requests = [row for row in self.requests if row.ref not in touched]
        for row in patch.requests:
            insort(requests, row, key=RequestRow.sort_key)
        grid_rows = {row.tech_ref: row for row in self.grid.rows}
        for tech_ref, new_row in patch.grid_rows.items():
            old = grid_rows.pop(tech_ref, None)
            if old is not None:
                touched |= {tech_ref, *(b.job_ref for b in old.blocks)}
            if new_row is not None:
                grid_rows[tech_ref] = new_row
        touched |= set(patch.grid_rows) | {alert.subject for alert in patch.plan_alerts}
        team = {row.ref: row for row in self.technicians} | {row.ref: row for row in patch.technicians}
        # A failed message follows from its job alone: the patch reads it again for its own jobs only.
        written = set(patch.job_refs)
        alerts = [
            a for a in self.plan_alerts
            if a.subject not in (written if a.kind == AlertKind.MESSAGE_FAILED else touched)
        ] + list(patch.plan_alerts)  # fmt: skip
        return replace(
            self,
            requests=requests,
            technicians=sorted(team.values(), key=lambda t: t.ref),
            grid=replace(self.grid, rows=[grid_rows[ref] for ref in sorted(grid_rows)]),
            plan_alerts=alerts,
            waiting=self.waiting + len(requests) - len(self.requests),
        )


@dataclass(frozen=True)
class Patch:
    """One write read back: the jobs' queue rows (a job that no longer waits, or is filtered out, has
    none), the touched technicians' grid rows (None: no longer on the board) and team rows, and the
    plan alerts of those technicians' days and of the jobs' failed messages."""

    job_refs: tuple[str, ...]
    requests: list[RequestRow]
    grid_rows: dict[str, GridRow | None]
    technicians: list[TechRow]
    plan_alerts: list[Alert]


@dataclass(frozen=True)
class Visit:
    job_ref: str
    start: datetime
    status: str
    technician: str


@dataclass(frozen=True)
class Event:
    at: datetime
    actor: str
    from_status: str | None
    to_status: str
    note: str


@dataclass(frozen=True, kw_only=True)
class JobDetail:
    ref: str
    status: str
    priority: int
    skill: str
    duration_min: int
    source: str
    description: str
    customer_ref: str
    customer_name: str
    customer_phone: str
    address: str
    window_start: datetime
    window_end: datetime
    due_by: datetime | None
    version: int
    technician_ref: str | None
    technician_name: str | None
    start: datetime | None
    end: datetime | None
    travel_minutes: int | None
    locked: bool
    past_visits: list[Visit]
    events: list[Event]
    # On site since / done at, from the audit trail (``actual_times``); None until the technician arrives.
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    messages: list[MessageRow] = field(default_factory=list)  # what the customer was told, newest first


@dataclass(frozen=True)
class TechDetail:
    ref: str
    name: str
    phone: str
    status: str
    skills: tuple[str, ...]
    territory: str | None
    row: GridRow | None  # the board day's plan


def change_token(session: Session) -> tuple[int, ...]:
    """Cheap to read, and different after any write that changes what the board shows: every job change
    writes an audit event; appointments, technicians and absences are counted as well, and the failed
    messages (a sender, in any process, fails one: an alert; a retry takes it back)."""
    row = session.execute(
        text(
            "SELECT (SELECT coalesce(max(id), 0) FROM jobevent), (SELECT count(*) FROM appointment),"
            " (SELECT count(*) FROM job), (SELECT count(*) FROM technician),"
            " (SELECT coalesce(max(id), 0) FROM absence), (SELECT count(*) FROM absence),"
            " (SELECT count(*) FROM delivery WHERE state = :failed)"
        ),
        {"failed": DeliveryState.FAILED.value},
    ).one()
    return tuple(int(value) for value in row)


def requests_queue(
    session: Session,
    now: datetime,
    flt: RequestFilter | None = None,
    *,
    refs: Collection[str] | None = None,
    limit: int | None = None,
) -> list[RequestRow]:
    """Unscheduled work, most urgent first: priority, then due time, then ref. ``refs``: only these jobs
    (those still waiting); ``limit``: the first rows only (a first page)."""
    query = _queue_query(flt or RequestFilter()).order_by(
        col(Job.priority), func.coalesce(col(Job.due_by), col(Job.window_end)), col(Job.ref)
    )
    if refs is not None:
        query = query.where(col(Job.ref).in_(list(refs)))
    if limit is not None:
        query = query.limit(limit)
    rows = []
    for ref, priority, skill, source, status, customer, address, duration, w0, w1, due_by, created in session.execute(
        query
    ):
        due_at = due_by or w1
        rows.append(
            RequestRow(
                ref, priority, skill, source, status, customer, address, duration, w0, w1, due_at,
                max(0, _minutes(now - created)), _minutes(due_at - now), _minutes(w1 - now),
            )
        )  # fmt: skip
    return rows


def queue_size(session: Session, flt: RequestFilter | None = None) -> int:
    """How many requests the (filtered) queue holds, without loading them."""
    query = _queue_query(flt or RequestFilter()).with_only_columns(func.count())
    return int(session.scalar(query) or 0)


def _queue_query(flt: RequestFilter) -> Any:
    query = (
        select(
            col(Job.ref), col(Job.priority), col(Skill.name), col(Job.source), col(Job.status), col(Customer.name),
            col(Site.address), col(Job.duration_min), col(Job.window_start), col(Job.window_end), col(Job.due_by),
            col(Job.created_at),
        )
        .join(Skill, col(Job.skill_id) == col(Skill.id))
        .join(Customer, col(Job.customer_id) == col(Customer.id))
        .join(Site, col(Job.site_id) == col(Site.id))
        .where(col(Job.status).in_([flt.status] if flt.status else QUEUED))
    )  # fmt: skip
    if flt.skill:
        query = query.where(func.lower(col(Skill.name)) == flt.skill)
    if flt.source:
        query = query.where(col(Job.source) == flt.source)
    if flt.text:
        pattern = f"%{flt.text}%"
        query = query.where(
            func.lower(col(Job.ref)).like(pattern)
            | func.lower(col(Customer.name)).like(pattern)
            | func.lower(col(Site.address)).like(pattern)
        )
    return query


def grid(
    session: Session,
    day: date,
    zone: ZoneInfo,
    now: datetime,
    travel: Travel,
    *,
    tech_refs: Collection[str] | None = None,
) -> Grid:
    """One row per active technician (or only ``tech_refs``): the shift, where the break falls, absences
    and the visits as blocks."""
    plan = load_day(session, day, zone, tech_refs=tech_refs)
    frame = plan.frame
    query = (
        select(col(Job.ref), col(Appointment.travel_minutes), col(Job.status), col(Job.priority))
        .join(Appointment, col(Appointment.job_id) == col(Job.id))
        .where(col(Appointment.start) >= frame.origin, col(Appointment.start) < frame.instant(frame.length))
    )
    if tech_refs is not None:
        query = query.where(col(Appointment.technician_id).in_(list(plan.tech_ids.values())))
    extras = {ref: rest for ref, *rest in session.execute(query)}
    projections = project_plan(session, plan, now, travel)
    projected = {
        visit.job_ref: (frame.minute(visit.projected_start), frame.minute(visit.projected_end))
        for projection in projections.values()
        for visit in projection.visits
        if visit.delay_minutes >= LATE_GRACE_MINUTES
    }
    broken: dict[str, str] = {}
    for promise in broken_promises(session, zone, tech_refs=tech_refs, since=frame.origin,
                                   until=frame.instant(frame.length)):  # fmt: skip
        broken.setdefault(promise.job_ref, promise.kind)
    # Once known (on site, done), a visit is drawn at its actual times, not the planned ones.
    actual = actual_times(session, now, [v.job_ref for d in plan.days.values() for v in d.visits])
    rows = []
    for ref in sorted(plan.days):
        tech_day = plan.days[ref]
        blocks = []
        for visit in tech_day.visits:
            travel_before, status, priority = extras.get(visit.job_ref, (0, JobStatus.SCHEDULED.value, 3))
            known = actual.get(visit.job_ref)
            start, end = (frame.minute(known.start), frame.minute(known.end)) if known else (visit.start, visit.end)
            blocks.append(
                Block(
                    visit.job_ref, start, end, travel_before, status, priority, visit.locked,
                    projected.get(visit.job_ref), broken.get(visit.job_ref, ""),
                )
            )  # fmt: skip
        rows.append(
            GridRow(
                ref, tech_day.name, tech_day.shift, break_slot(tech_day, travel),
                tuple((a.start, a.end, a.reason) for a in tech_day.absences), tuple(blocks),
            )
        )  # fmt: skip
    now_minute = frame.minute(now)
    return Grid(frame, rows, now_minute if 0 <= now_minute < frame.length else None, projections)


def technicians(
    session: Session, zone: ZoneInfo, now: datetime, day_grid: Grid, *, refs: Collection[str] | None = None
) -> list[TechRow]:
    """Each technician's (or only ``refs``') status at ``now`` and their load on the grid's day."""
    by_ref = {row.tech_ref: row for row in day_grid.rows}
    result = []
    for tech in list_technicians(session, zone, now=now, refs=refs):
        row = by_ref.get(tech.ref)
        busy = sum(b.end - b.start + b.travel_before for b in row.blocks) if row else 0
        shift = (row.shift[1] - row.shift[0]) if row and row.shift else 0
        result.append(
            TechRow(
                tech.ref, tech.name, tech.status, tech.skills, tech.territory,
                len(row.blocks) if row else 0, busy, shift,
            )
        )  # fmt: skip
    return result


def request_alerts(row: RequestRow, zone: ZoneInfo, now: datetime) -> list[Alert]:
    """A waiting request's alerts: past its due time, or its window closing within the hour unassigned."""
    found = []
    if row.past_due:
        found.append(Alert(AlertKind.PAST_DUE, row.ref, f"{row.ref} waits past its due time ({_clock(row.due, zone)})"))
    if row.window_at_risk:
        found.append(
            Alert(AlertKind.WINDOW_AT_RISK, row.ref,
                  f"{row.ref} is unassigned and its window closes at {_clock(row.window_end, zone)}")
        )  # fmt: skip
    return found


def plan_alerts(
    session: Session,
    zone: ZoneInfo,
    now: datetime,
    *,
    tech_refs: Collection[str] | None = None,
    travel: Travel = STRAIGHT_LINE,
    today: Grid | None = None,
) -> list[Alert]:
    """Planned work whose promised window is at risk, technicians running behind their plan today
    (``lateness``), and visits from yesterday on that no longer keep their promise (``promises``: outside
    the window, too short, a skill missing); only ``tech_refs``' when given. Windows at risk are read for
    visits within a day of ``now``. ``today``: the grid of the same technicians, when it shows today.
    The whole board's (no ``tech_refs``) has the failed messages' alerts as well (``message_alerts``)."""
    found: list[Alert] = []
    query = (
        select(
            col(Job.ref), col(Job.status), col(Job.window_end), col(Appointment.travel_minutes), col(Technician.name),
        )
        .join(Appointment, col(Appointment.job_id) == col(Job.id))
        .join(Technician, col(Appointment.technician_id) == col(Technician.id))
        .where(
            col(Job.status).in_([*PLANNED_NOT_STARTED, JobStatus.EN_ROUTE.value, JobStatus.ON_SITE.value]),
            col(Appointment.start) < now + timedelta(days=1), col(Appointment.end) > now - timedelta(days=1),
        )
        .order_by(col(Appointment.start))
    )  # fmt: skip
    if tech_refs is not None:
        query = query.where(col(Technician.ref).in_(list(tech_refs)))
    for ref, status, w_end, drive, tech_name in session.execute(query):
        if status in PLANNED_NOT_STARTED and now + timedelta(minutes=drive) > w_end:
            found.append(Alert(AlertKind.WINDOW_AT_RISK, ref, f"{ref}: {tech_name} cannot reach it before "
                                                     f"{_clock(w_end, zone)} without leaving now"))  # fmt: skip
        elif status == JobStatus.EN_ROUTE.value and now > w_end:
            found.append(Alert(AlertKind.WINDOW_AT_RISK, ref, f"{ref}: {tech_name} is still driving; window closed "
                                                     f"{_clock(w_end, zone)}"))  # fmt: skip
    promises = broken_promises(session, zone, tech_refs=tech_refs, since=now - timedelta(days=1))
    found += [Alert(promise.kind, promise.job_ref, promise.message) for promise in promises]
    local_today = now.astimezone(zone).date()
    if today is not None and today.day == local_today:  # the grid of today has them already
        late = running_late(today.projections)
    else:
        late = late_list(session, local_today, zone, now, travel, tech_refs=tech_refs).technicians
    for tech in late:
        message = f"{tech.name} is running late ({tech.behind_minutes} min behind plan): {tech.reason}"
        if tech.missed:
            message += f"; will miss the window of {', '.join(v.job_ref for v in tech.missed)}"
        found.append(Alert(AlertKind.RUNNING_LATE, tech.technician_ref, message))
    if tech_refs is None:
        found += message_alerts(session, now)
    return found


def message_alerts(session: Session, now: datetime, *, job_refs: Collection[str] | None = None) -> list[Alert]:
    """A message the customer was never given, of a job still open or finished (last changed) within two
    days: one alert per job, of its newest failed message (``job_refs``: only these jobs')."""
    closed = [*(status.value for status in FINISHED), JobStatus.CANCELLED.value]
    query = (
        select(col(Job.ref), col(Notice.kind), col(Delivery.channel), col(Delivery.recipient), col(Delivery.last_error))
        .join(Notice, col(Notice.id) == col(Delivery.notice_id))
        .join(Job, col(Job.id) == col(Notice.job_id))
        .where(
            col(Delivery.state) == DeliveryState.FAILED.value,
            col(Job.status).not_in(closed)
            | (col(Job.status).in_([status.value for status in FINISHED])
               & (col(Job.updated_at) >= now - FAILED_MESSAGES_KEPT)),
        )
        .order_by(col(Delivery.id).desc())
    )  # fmt: skip
    if job_refs is not None:
        query = query.where(col(Job.ref).in_(list(job_refs)))
    found: dict[str, Alert] = {}
    for ref, kind, channel, recipient, error in session.execute(query):
        if ref not in found:
            message = f"{ref}: the {kind.replace('_', ' ')} message by {channel} to {recipient} failed: {error}"
            found[ref] = Alert(AlertKind.MESSAGE_FAILED, ref, message)
    return list(found.values())


def alerts(
    session: Session, zone: ZoneInfo, now: datetime, queue: list[RequestRow], travel: Travel = STRAIGHT_LINE
) -> list[Alert]:
    """Promised windows at risk, queued work past its due time, technicians running behind their plan."""
    board = Board(now, zone, queue, [], Grid(DayFrame(now.astimezone(zone).date(), zone), [], None),
                  plan_alerts(session, zone, now, travel=travel), ())  # fmt: skip
    return list(board.alerts())


def load_board(
    session: Session,
    *,
    zone: ZoneInfo,
    now: datetime,
    day: date,
    travel: Travel,
    flt: RequestFilter | None = None,
    first_page: int | None = None,
    on_first_page: Callable[[Board], None] | None = None,
) -> Board:
    """The whole board, in one read transaction. With ``on_first_page``, a partial board (the queue's
    first ``first_page`` rows, the grid and the team: what a screen shows first) is handed to it before
    the rest of the queue and the alerts are read."""
    token = change_token(session)
    day_grid = grid(session, day, zone, now, travel)
    team = technicians(session, zone, now, day_grid)
    if on_first_page is not None:
        page = requests_queue(session, now, flt, limit=first_page)
        waiting = queue_size(session, flt) if first_page is not None and len(page) == first_page else len(page)
        on_first_page(Board(now, zone, page, team, day_grid, [], token, waiting=waiting, partial=True))
    queue = requests_queue(session, now, flt)
    skills = list(session.scalars(select(col(Skill.name)).order_by(col(Skill.name))))
    alerts = plan_alerts(session, zone, now, travel=travel, today=day_grid)
    return Board(now, zone, queue, team, day_grid, alerts, token, skills)


def load_patch(
    session: Session,
    *,
    zone: ZoneInfo,
    now: datetime,
    day: date,
    travel: Travel,
    job_refs: Collection[str],
    tech_refs: Collection[str],
    flt: RequestFilter | None = None,
) -> Patch:
    """What a write on ``job_refs`` changed on the board, for ``Board.patched``: their queue rows and
    the rows of ``tech_refs`` (the technicians they left and joined)."""
    techs = sorted(set(tech_refs))
    day_grid = grid(session, day, zone, now, travel, tech_refs=techs)
    by_ref = {row.tech_ref: row for row in day_grid.rows}
    return Patch(
        tuple(job_refs),
        requests_queue(session, now, flt, refs=job_refs),
        {ref: by_ref.get(ref) for ref in techs},
        technicians(session, zone, now, day_grid, refs=set(techs)),
        (plan_alerts(session, zone, now, tech_refs=techs, travel=travel, today=day_grid) if techs else [])
        + message_alerts(session, now, job_refs=job_refs),
    )


def job_detail(session: Session, ref: str, now: datetime) -> JobDetail | None:
    row = session.execute(
        select(Job, Customer, Site, col(Skill.name))
        .join(Customer, col(Job.customer_id) == col(Customer.id))
        .join(Site, col(Job.site_id) == col(Site.id))
        .join(Skill, col(Job.skill_id) == col(Skill.id))
        .where(col(Job.ref) == ref)
    ).first()
    if row is None:
        return None
    job, customer, site, skill = row
    placed = session.execute(
        select(Appointment, Technician)
        .join(Technician, col(Appointment.technician_id) == col(Technician.id))
        .where(col(Appointment.job_id) == job.id)
    ).first()
    appointment, tech = placed if placed else (None, None)
    past = [
        Visit(other_ref, start, status, name)
        for other_ref, start, status, name in session.execute(
            select(col(Job.ref), col(Appointment.start), col(Job.status), col(Technician.name))
            .join(Appointment, col(Appointment.job_id) == col(Job.id))
            .join(Technician, col(Appointment.technician_id) == col(Technician.id))
            .where(col(Job.customer_id) == job.customer_id, col(Job.id) != job.id, col(Appointment.start) < now)
            .order_by(col(Appointment.start).desc())
            .limit(10)
        )
    ]
    events = [
        Event(e.at, e.actor, e.from_status, e.to_status, e.note)
        for e in session.scalars(select(JobEvent).where(col(JobEvent.job_id) == job.id).order_by(col(JobEvent.id)))
    ]
    planned = appointment.end - appointment.start if appointment else timedelta(minutes=job.duration_min)
    changes = ((e.at, e.to_status) for e in events if e.from_status != e.to_status)
    actual = actual_span(job.status, changes, planned, now)
    return JobDetail(
        ref=job.ref,
        status=job.status,
        priority=job.priority,
        skill=skill,
        duration_min=job.duration_min,
        source=job.source,
        description=job.description,
        customer_ref=customer.ref,
        customer_name=customer.name,
        customer_phone=customer.phone,
        address=site.address,
        window_start=job.window_start,
        window_end=job.window_end,
        due_by=job.due_by,
        version=job.version,
        technician_ref=tech.ref if tech else None,
        technician_name=tech.name if tech else None,
        start=appointment.start if appointment else None,
        end=appointment.end if appointment else None,
        travel_minutes=appointment.travel_minutes if appointment else None,
        locked=bool(appointment and appointment.locked),
        past_visits=past,
        events=events,
        actual_start=actual.start if actual else None,
        actual_end=actual.end if actual else None,
        messages=list_messages(session, job_ref=job.ref, limit=JOB_MESSAGES_SHOWN),
    )


def tech_detail(session: Session, ref: str, zone: ZoneInfo, now: datetime, day_grid: Grid) -> TechDetail | None:
    found = list_technicians(session, zone, now=now, refs=[ref])
    if not found:
        return None
    tech = found[0]
    row = next((r for r in day_grid.rows if r.tech_ref == ref), None)
    return TechDetail(ref, tech.name, tech.phone, tech.status, tech.skills, tech.territory, row)


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _clock(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%H:%M")
