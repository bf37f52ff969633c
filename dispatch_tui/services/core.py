"""The headless core: what every front end calls — the CLI, the console, its optimizer child process.

A ``Core`` holds the store, the time zone, the travel model, the actor and the clock, and offers the use
cases, each in its own Session and transaction; the front ends parse, call one method and render. It
raises the services' own errors (``services.errors``, ``store.StoreMissing``…): each front end maps them
to its messages and exit codes. No Textual, no Typer (an import-linter contract keeps it so).

Every method blocks: the console calls them from thread workers, never on the event loop. SQLAlchemy and
the services are imported on first use, so that a console's first frame and a CLI's --help wait for none.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from dispatch_tui.actor import current_user
from dispatch_tui.services.errors import NotFound

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from dispatch_tui.clock import Clock
    from dispatch_tui.config import Settings
    from dispatch_tui.domain import FileFormat, ImportKind
    from dispatch_tui.optimizer.problem import Solution
    from dispatch_tui.services.billing.invoicing import BillLine
    from dispatch_tui.services.billing.timesheets import TimesheetDay
    from dispatch_tui.services.change_feed import ChangeFeed
    from dispatch_tui.services.execution.board import Board, JobDetail, Patch, TechDetail
    from dispatch_tui.services.execution.feedback import Rated
    from dispatch_tui.services.execution.lateness import LateList
    from dispatch_tui.services.execution.lifecycle import PartUse
    from dispatch_tui.services.execution.queries import JobRow, TechnicianRow
    from dispatch_tui.services.intake.customers import CustomerHit, NewCustomer
    from dispatch_tui.services.intake.imports import ImportReport
    from dispatch_tui.services.intake.requests import NewRequest
    from dispatch_tui.services.notify.queries import ContactChoice, MessageRow
    from dispatch_tui.services.notify.sender import Sender
    from dispatch_tui.services.planning.assignment import Change
    from dispatch_tui.services.planning.booking import Booking
    from dispatch_tui.services.planning.candidates import Candidate, Nobody
    from dispatch_tui.services.planning.emergency import InsertOption
    from dispatch_tui.services.planning.optimize import Built, Matrix, Policy, Report
    from dispatch_tui.services.planning.slots import Offer
    from dispatch_tui.services.reports.schedule_export import Schedule

    RunSolve = Callable[[date, Callable[[], Solution]], Solution]


class Core:
    """``clock``: every "now" of this core (default the settings' own: the real time, or --now).
    ``create_store``: an SQLite file that does not exist yet is made (imports, the demo); otherwise it is
    refused with ``StoreMissing``, so that a mistyped path never becomes an empty store that answers."""

    def __init__(
        self, settings: Settings, clock: Clock | None = None, actor: str | None = None, *, create_store: bool = False
    ) -> None:
        self.settings = settings
        self.clock = clock or settings.clock
        self.actor = actor or current_user()
        self.create_store = create_store
        self._engine: Engine | None = None
        self._travel: Callable[..., int] | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return self.clock.today(self.settings.zone)

    # --- the store and the travel model -------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The store, opened on first use and checked to be at this version's schema (a local SQLite store
        is upgraded on open; a server store is upgraded with `dispatch db upgrade`)."""
        with self._lock:
            if self._engine is None:
                from dispatch_tui.store import ensure_ready, make_engine

                engine = make_engine(self.settings.db, create=self.create_store)
                ensure_ready(engine, auto_upgrade=engine.url.get_backend_name() == "sqlite")
                self._engine = engine
            return self._engine

    @property
    def travel(self) -> Callable[..., int]:
        """Minutes between two points by the configured travel model (routing-server times are cached)."""
        if self._travel is None:
            from dispatch_tui.services.travel import point_travel

            self._travel = point_travel(self.settings, self.engine)
        return self._travel

    def travel_matrix(self) -> Matrix:
        """The configured model's matrix builder, for the optimizer."""
        from dispatch_tui.services.travel import travel_model

        return travel_model(self.settings, self.engine).matrix

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """One transaction: committed at the end of the block when ``write``, rolled back on any error."""
        from sqlmodel import Session

        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                if write:
                    session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def change_feed(self) -> ChangeFeed:
        """Word of other processes' commits (LISTEN/NOTIFY on PostgreSQL, data_version on SQLite)."""
        from dispatch_tui.services.change_feed import open_feed

        return open_feed(self.engine)

    def token(self) -> tuple[int, ...]:
        from dispatch_tui.services.execution.board import change_token

        with self.session() as session:
            return change_token(session)

    # --- the board (the console's read side) ---------------------------------------------------------

    def board(self, day: date, query: str = "", *, on_first_page: Callable[[Board], None] | None = None,
              first_page: int = 100) -> Board:  # fmt: skip
        """The whole board for ``day``; ``query`` filters the requests ('skill:boiler source:web oak').
        ``on_first_page`` is first handed the queue's first ``first_page`` rows with the grid and the team."""
        from dispatch_tui.services.execution.board import RequestFilter, load_board

        flt = RequestFilter.parse(query)
        with self.session() as session:
            return load_board(session, zone=self.settings.zone, now=self.now(), day=day, travel=self.travel, flt=flt,
                              first_page=first_page, on_first_page=on_first_page)  # fmt: skip

    def patch(self, day: date, query: str, job_refs: Collection[str], tech_refs: Collection[str]) -> Patch:
        """What a write on ``job_refs`` changed on ``day``'s board (the technicians' rows it touched)."""
        from dispatch_tui.services.execution.board import RequestFilter, load_patch

        with self.session() as session:
            return load_patch(session, zone=self.settings.zone, now=self.now(), day=day, travel=self.travel,
                              job_refs=job_refs, tech_refs=tech_refs, flt=RequestFilter.parse(query))  # fmt: skip

    def job_detail(self, ref: str) -> JobDetail | None:
        """One job with its customer, plan, actual times, past visits and audit trail (`dispatch jobs show`)."""
        from dispatch_tui.services.execution.board import job_detail

        with self.session() as session:
            return job_detail(session, ref, self.now())

    def tech_detail(self, ref: str, board: Board) -> TechDetail | None:
        from dispatch_tui.services.execution.board import tech_detail

        with self.session() as session:
            return tech_detail(session, ref, self.settings.zone, self.now(), board.grid)

    # --- lists and reports ---------------------------------------------------------------------------

    def jobs(
        self, *, statuses: Collection[str] = (), day: date | None = None, customer: str | None = None
    ) -> list[JobRow]:
        """Jobs by priority, then window (`dispatch jobs list`; ``as_json``: docs/cli-json.md)."""
        from dispatch_tui.services.execution.queries import list_jobs

        with self.session() as session:
            return list_jobs(session, self.settings.zone, statuses=list(statuses), day=day, customer=customer)

    def technicians(self) -> list[TechnicianRow]:
        """Technicians with skills, usual shift and status now (`dispatch techs list`)."""
        from dispatch_tui.services.execution.queries import list_technicians

        with self.session() as session:
            return list_technicians(session, self.settings.zone, now=self.now())

    def follow_ups(self, ref: str) -> list[str]:
        """The refs of the follow-up requests visit ``ref`` asked for, oldest first."""
        from dispatch_tui.services.execution.lifecycle import follow_ups

        with self.session() as session:
            return follow_ups(session, ref)

    def schedule(self, day: date, tech_ref: str | None = None) -> Schedule:
        """``day``'s routes with breaks and drives, and the waiting jobs with why (docs/schedule-json.md)."""
        from dispatch_tui.services.reports.schedule_export import build_schedule

        with self.session() as session:
            return build_schedule(session, day, self.settings.zone, self.travel, tech_ref=tech_ref, now=self.now())

    def kpis(self, first: date, last: date) -> dict[str, Any]:
        """The KPIs over the local days ``first`` to ``last``, as `dispatch report kpi --json` prints them."""
        from dispatch_tui.services.reports.kpi import kpis

        with self.session() as session:
            return kpis(session, first, last, zone=self.settings.zone, now=self.now())

    def late_list(self, day: date) -> LateList:
        """Who is running late on ``day`` as of now, projected from the live statuses (`dispatch late`)."""
        from dispatch_tui.services.execution.lateness import late_list

        with self.session() as session:
            return late_list(session, day, self.settings.zone, self.now(), self.travel)

    def timesheets(self, first: date, last: date) -> list[TimesheetDay]:
        from dispatch_tui.services.billing.timesheets import timesheets

        with self.session() as session:
            return timesheets(session, first, last, zone=self.settings.zone, now=self.now())

    @contextmanager
    def billing_export(self, first: date, last: date, *, include_exported: bool = False) -> Iterator[list[BillLine]]:
        """The invoice lines of the visits finished from ``first`` to ``last``; when the block ends without
        an error they are marked exported, in the same transaction; otherwise nothing is marked. Raises
        ``BillingRejected`` (with every problem) when a visit cannot be billed."""
        from dispatch_tui.services.billing.invoicing import billing_lines, mark_exported

        with self.session(write=True) as session:
            lines = billing_lines(session, first, last, zone=self.settings.zone, tax_rate=self.settings.tax_rate,
                                  include_exported=include_exported)  # fmt: skip
            yield lines
            mark_exported(session, lines, actor=self.actor, at=self.now())

    # --- planning -------------------------------------------------------------------------------------

    def candidates(self, ref: str, day: date | None = None, *, days: int = 1, limit: int = 10) -> list[Candidate]:
        """Who could take job ``ref`` from ``day`` (default: its window's) on, best first."""
        from dispatch_tui.services.planning.candidates import rank_candidates

        with self.session() as session:
            return rank_candidates(session, ref, zone=self.settings.zone, travel=self.travel, day=day, days=days,
                                   limit=limit, now=self.now())  # fmt: skip

    def why_no_candidates(self, ref: str, day: date | None = None, *, days: int = 1) -> Nobody:
        """Why ``candidates`` with the same arguments found nobody, and what to do."""
        from dispatch_tui.services.planning.candidates import why_no_candidates

        with self.session() as session:
            return why_no_candidates(session, ref, zone=self.settings.zone, travel=self.travel, day=day, days=days,
                                     now=self.now())  # fmt: skip

    def assign(self, ref: str, tech_ref: str, start: datetime, *, force: bool = False,
               expected_version: int | None = None) -> Change:  # fmt: skip
        from dispatch_tui.services.planning.assignment import assign

        with self.session(write=True) as session:
            return assign(session, ref, tech_ref, start, **self._context(), force=force,
                          expected_version=expected_version)  # fmt: skip

    def move(self, ref: str, tech_ref: str | None, start: datetime, *, force: bool = False,
             expected_version: int | None = None) -> Change:  # fmt: skip
        """Move a planned job to ``start``, on ``tech_ref``'s day (None: the same technician's)."""
        from dispatch_tui.services.planning.assignment import move

        with self.session(write=True) as session:
            return move(session, ref, start, tech_ref=tech_ref, **self._context(), force=force,
                        expected_version=expected_version)  # fmt: skip

    def unassign(self, ref: str, *, expected_version: int | None = None) -> Change:
        from dispatch_tui.services.planning.assignment import unassign

        with self.session(write=True) as session:
            return unassign(session, ref, **self._context(), expected_version=expected_version)

    def set_locked(self, ref: str, locked: bool, *, expected_version: int | None = None) -> Change:
        from dispatch_tui.services.planning.assignment import set_locked

        with self.session(write=True) as session:
            return set_locked(session, ref, locked, zone=self.settings.zone, actor=self.actor,
                              expected_version=expected_version)  # fmt: skip

    def place(self, ref: str, tech_ref: str, day: date, minute: int, span: int) -> Change:
        """Place a job where the dispatcher pointed on the grid: the first start in that cell the rules allow."""
        from dispatch_tui.services.planning.placement import place

        with self.session(write=True) as session:
            return place(session, ref, tech_ref, day, minute, span=span, **self._context())

    def optimize_days(
        self,
        first: date,
        days: int = 1,
        *,
        time_limit_s: float,
        now: datetime | None,
        policy: Policy | None = None,
        seed: int = 0,
        apply: bool = False,
        locked: bool = True,
        run_solve: RunSolve | None = None,
    ) -> list[tuple[Built, Report]]:
        """Re-plan ``days`` days from ``first``: build, solve, check and diff each, and with ``apply`` write
        them all in one transaction. ``now``: what is before it is history, kept as it is. ``locked``: under
        the optimizer's run lock (``Busy`` if another run holds it); only a preview that writes nothing may
        go without. Raises ``NoPlan`` when a day has no plan."""
        from dispatch_tui.services.planning import optimize as planner
        from dispatch_tui.services.planning.run_lock import exclusive

        policy = policy or planner.Policy.from_settings(self.settings)
        url = self.engine.url.render_as_string(hide_password=False)
        with exclusive(url) if locked else nullcontext(), self.session(write=apply) as session:
            return planner.optimize_days(session, first, days, self.settings.zone, self.travel_matrix(), policy,
                                         time_limit_s=time_limit_s, seed=seed, now=now,
                                         write_with=self.travel if apply else None, run_solve=run_solve)  # fmt: skip

    def apply_plan(self, built: Built, report: Report) -> Report:
        """Write ``report`` (all or part of a preview) in one transaction, under the optimizer's lock; jobs
        changed since the preview was built are skipped and listed in the result."""
        from dispatch_tui.services.planning import optimize as planner
        from dispatch_tui.services.planning.run_lock import exclusive

        with exclusive(self.engine.url.render_as_string(hide_password=False)), self.session(write=True) as session:
            return planner.apply(session, built, report, self.settings.zone, self.travel)

    # --- execution ------------------------------------------------------------------------------------

    def set_status(self, ref: str, status: str, at: datetime | None = None, *, note: str = "",
                   parts: Sequence[PartUse] = (), expected_version: int | None = None) -> Change:  # fmt: skip
        """The next lifecycle step, as of ``at`` (default now); ``parts`` when the visit ends."""
        from dispatch_tui.services.execution.lifecycle import set_status

        with self.session(write=True) as session:
            return set_status(session, ref, status, at=at, now=self.now(), **self._context(), note=note,
                              parts=parts, expected_version=expected_version)  # fmt: skip

    def complete(self, ref: str, at: datetime | None = None, started_at: datetime | None = None, *,
                 parts: Sequence[PartUse] = (), note: str = "",
                 expected_version: int | None = None) -> Change:  # fmt: skip
        """ "Job complete" in one action, done at ``at`` (default now); missing en-route/on-site steps are
        recorded from ``started_at`` when given, else from the plan."""
        from dispatch_tui.services.execution.lifecycle import complete

        with self.session(write=True) as session:
            return complete(session, ref, at=at, started_at=started_at, now=self.now(), **self._context(),
                            parts=parts, note=note, expected_version=expected_version)  # fmt: skip

    def feedback(self, ref: str, rating: int, comment: str = "") -> Rated:
        """The customer's rating (1-5) of a finished visit; a later one replaces it. Refused otherwise."""
        from dispatch_tui.services.execution.feedback import record_feedback

        with self.session(write=True) as session:
            return record_feedback(session, ref, rating, comment, actor=self.actor, at=self.now())

    # --- intake ---------------------------------------------------------------------------------------

    def import_data(self, kind: ImportKind, data: bytes, fmt: FileFormat, *, dry_run: bool = False,
                    on_progress: Callable[[str, int], None] | None = None) -> ImportReport:  # fmt: skip
        """A file's rows upserted by ref, whole or not at all (``ImportRejected`` lists every problem)."""
        from dispatch_tui.services.intake.imports import import_data

        return import_data(self.engine, kind, data, fmt, zone=self.settings.zone,
                           working_days=self.settings.working_days, actor=f"{self.actor} (import)", dry_run=dry_run,
                           on_progress=on_progress)  # fmt: skip

    # --- taking a call --------------------------------------------------------------------------------

    def new_request(self, values: dict[str, str], *, reported_by: str | None = None, from_visit: str | None = None,
                    allow_duplicate: bool = False) -> NewRequest:  # fmt: skip
        """Take a request (the import's request columns as text); ``PossibleDuplicate`` lists open jobs
        that look like it unless ``allow_duplicate``."""
        from dispatch_tui.services.intake.requests import new_request

        with self.session(write=True) as session:
            return new_request(session, values, zone=self.settings.zone, actor=self.actor, now=self.now(),
                               open_days=self.settings.slot_days, reported_by=reported_by, from_visit=from_visit,
                               allow_duplicate=allow_duplicate)  # fmt: skip

    def note_call(self, ref: str, note: str) -> int:
        """Record a call on an open job instead of a second request; the job's new version."""
        from dispatch_tui.services.intake.requests import note_call

        with self.session(write=True) as session:
            return note_call(session, ref, note, actor=self.actor)

    def book(self, ref: str, slot_start: datetime, *, window_minutes: int | None = None, promise_only: bool = False,
             expected_version: int | None = None) -> Booking:  # fmt: skip
        """Promise the window from ``slot_start`` and place the visit on the best technician (``SlotTaken``
        when nobody can start inside it any more)."""
        from dispatch_tui.services.planning.booking import book

        minutes = window_minutes or self.settings.slot_window_minutes
        with self.session(write=True) as session:
            return book(session, ref, slot_start, window_minutes=minutes, zone=self.settings.zone, travel=self.travel,
                        actor=self.actor, now=self.now(), promise_only=promise_only,
                        expected_version=expected_version)  # fmt: skip

    def insert_options(self, ref: str) -> list[InsertOption]:
        """For an emergency today: the technicians who could start ``ref`` soonest, each with what it does
        to the rest of their day (visits later, or back to the queue)."""
        from dispatch_tui.services.planning.emergency import insert_options

        with self.session() as session:
            return insert_options(session, ref, zone=self.settings.zone, travel=self.travel, now=self.now())

    def insert(self, ref: str, number: int) -> InsertOption:
        """Apply option ``number`` (1 = soonest) of ``insert_options``, read again under the locks."""
        from dispatch_tui.services.planning.emergency import apply_insert

        with self.session(write=True) as session:
            return apply_insert(session, ref, number, zone=self.settings.zone, travel=self.travel, actor=self.actor,
                                now=self.now())  # fmt: skip

    def confirmation(self, ref: str) -> bytes:
        """The booking's confirmation for the customer: an iCalendar event over the promised window."""
        from dispatch_tui.services.reports.calendar_export import booking_confirmation

        job = self.job_detail(ref)
        if job is None:
            raise NotFound(f"no job {ref!r}")
        return booking_confirmation(job, self.settings.zone, stamp=self.now())

    def find_customers(self, query: str, limit: int = 10) -> list[CustomerHit]:
        """The customers a caller may be, by name, phone, e-mail, ref or address, typos and formats allowed;
        best first, each with why, its sites, open jobs and last visits (an index in memory, per store)."""
        from dispatch_tui.services.intake.customers import find_customers, phone_region

        with self.session() as session:
            return find_customers(session, query, region=phone_region(self.settings), limit=limit)

    def warm_lookup(self) -> None:
        """Build the customer lookup's index now (a console does it after its first frame), so that the
        first call taken does not wait for it."""
        from dispatch_tui.services.intake.customers import directory, phone_region

        with self.session() as session:
            directory(session, phone_region(self.settings))

    def create_customer(self, *, name: str, ref: str | None = None, phone: str | None = None,
                        email: str | None = None, address: str | None = None, lat: float | None = None,
                        lon: float | None = None) -> NewCustomer:  # fmt: skip
        """A new customer and its site, checked like an imported one; the position typed, or found by the
        geocoder (``geocoder_url``) and cached. ``Refused`` with every reason (no position: how to give one)."""
        from dispatch_tui.services.intake.customers import Geocoding, create_customer, phone_region

        geocoding = Geocoding(self.settings.geocoder_url, self.settings.geocoder_timeout_s)
        with self.session(write=True) as session:
            return create_customer(session, name=name, ref=ref, phone=phone, email=email, address=address, lat=lat,
                                   lon=lon, region=phone_region(self.settings), geocoding=geocoding, now=self.now(),
                                   zone=self.settings.zone)  # fmt: skip

    def slots(self, ref: str, *, days: int | None = None, window_minutes: int | None = None, day: date | None = None,
              part: str | None = None, not_before: time | None = None) -> Offer:  # fmt: skip
        """The arrival windows to offer for waiting job ``ref`` over ``days`` days from today (default
        ``slot_days``; or on ``day`` alone), ``window_minutes`` long (default ``slot_window_minutes``),
        narrowed by the customer's wishes: ``part`` ("morning", "afternoon"), ``not_before`` a local time."""
        from dispatch_tui.services.planning.slots import Wishes, offer_slots

        wishes = Wishes(day=day, part=part, not_before=not_before)
        with self.session() as session:
            return offer_slots(session, ref, zone=self.settings.zone, travel=self.travel, now=self.now(),
                               days=days or self.settings.slot_days,
                               window_minutes=window_minutes or self.settings.slot_window_minutes,
                               wishes=wishes)  # fmt: skip

    # --- telling the customer --------------------------------------------------------------------------

    def sender(self) -> Sender:
        """A sender of the outbox over this core's store, clock and travel model (close it when done)."""
        from dispatch_tui.services.notify.sender import Sender

        return Sender(self.engine, self.settings, self.clock, self.travel)

    def messages(self, *, state: str | None = None, job_ref: str | None = None,
                 limit: int | None = None) -> list[MessageRow]:  # fmt: skip
        """Messages to customers on each channel, newest first (`dispatch notify list`)."""
        from dispatch_tui.services.notify.queries import list_messages

        with self.session() as session:
            return list_messages(session, state=state, job_ref=job_ref, limit=limit)

    def retry_message(self, delivery_id: int) -> MessageRow:
        """A failed message due again now (`dispatch notify retry`)."""
        from dispatch_tui.services.notify.queries import retry

        with self.session(write=True) as session:
            return retry(session, delivery_id, self.now())

    def set_contact(self, customer_ref: str, *, channels: Sequence[str] | None, opt_out: Sequence[str] = (),
                    opt_in: Sequence[str] = ()) -> ContactChoice:  # fmt: skip
        """How a customer wants to be told: their channels, and the kinds they opted out of."""
        from dispatch_tui.services.notify.queries import set_contact

        with self.session(write=True) as session:
            return set_contact(session, customer_ref, channels=channels, opt_out=opt_out, opt_in=opt_in)

    def contact(self, customer_ref: str) -> ContactChoice:
        from dispatch_tui.services.notify.queries import contact_of

        with self.session() as session:
            return contact_of(session, customer_ref)

    def _context(self) -> dict[str, Any]:
        return {"zone": self.settings.zone, "travel": self.travel, "actor": self.actor}
