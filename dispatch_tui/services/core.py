"""What the console's workers call: the services, each call in its own Session and transaction.

No Textual here, and every method blocks: call them from thread workers, never on the event loop.
SQLAlchemy and the services are imported on first use, so the first frame does not wait for them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from dispatch_tui.actor import current_user

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from dispatch_tui.clock import Clock
    from dispatch_tui.config import Settings
    from dispatch_tui.services.change_feed import ChangeFeed
    from dispatch_tui.services.execution.board import Board, JobDetail, Patch, TechDetail
    from dispatch_tui.services.execution.feedback import Rated
    from dispatch_tui.services.execution.lateness import LateList
    from dispatch_tui.services.planning.assignment import Change
    from dispatch_tui.services.planning.candidates import Candidate, Nobody


class Core:
    def __init__(self, settings: Settings, clock: Clock, actor: str | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.actor = actor or current_user()
        self._engine: Engine | None = None
        self._travel: Callable[..., int] | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self.clock.now()

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                from dispatch_tui.store import ensure_ready, make_engine

                engine = make_engine(self.settings.db, create=False)  # a missing store is shown, never made
                ensure_ready(engine, auto_upgrade=engine.url.get_backend_name() == "sqlite")
                self._engine = engine
            return self._engine

    @property
    def travel(self) -> Callable[..., int]:
        if self._travel is None:
            from dispatch_tui.services.travel import point_travel

            self._travel = point_travel(self.settings, self.engine)
        return self._travel

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        from sqlmodel import Session

        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                if write:
                    session.commit()
            except BaseException:
                session.rollback()
                raise

    def change_feed(self) -> ChangeFeed:
        """Word of other processes' commits (LISTEN/NOTIFY on PostgreSQL, data_version on SQLite)."""
        from dispatch_tui.services.change_feed import open_feed

        return open_feed(self.engine)

    def token(self) -> tuple[int, ...]:
        from dispatch_tui.services.execution.board import change_token

        with self.session() as session:
            return change_token(session)

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
        from dispatch_tui.services.execution.board import job_detail

        with self.session() as session:
            return job_detail(session, ref, self.now())

    def tech_detail(self, ref: str, board: Board) -> TechDetail | None:
        from dispatch_tui.services.execution.board import tech_detail

        with self.session() as session:
            return tech_detail(session, ref, self.settings.zone, self.now(), board.grid)

    def candidates(self, ref: str, day: date | None = None) -> list[Candidate]:
        from dispatch_tui.services.planning.candidates import rank_candidates

        with self.session() as session:
            return rank_candidates(session, ref, zone=self.settings.zone, travel=self.travel, day=day, now=self.now())

    def why_no_candidates(self, ref: str, day: date | None = None) -> Nobody:
        """Why ``candidates`` with the same arguments found nobody (`dispatch candidates` says the same)."""
        from dispatch_tui.services.planning.candidates import why_no_candidates

        with self.session() as session:
            return why_no_candidates(session, ref, zone=self.settings.zone, travel=self.travel, day=day,
                                     now=self.now())  # fmt: skip

    def assign(self, ref: str, tech_ref: str, start: datetime) -> Change:
        from dispatch_tui.services.planning.assignment import assign

        with self.session(write=True) as session:
            return assign(session, ref, tech_ref, start, **self._context())

    def move(self, ref: str, tech_ref: str, start: datetime) -> Change:
        from dispatch_tui.services.planning.assignment import move

        with self.session(write=True) as session:
            return move(session, ref, start, tech_ref=tech_ref, **self._context())

    def unassign(self, ref: str) -> Change:
        from dispatch_tui.services.planning.assignment import unassign

        with self.session(write=True) as session:
            return unassign(session, ref, **self._context())

    def set_locked(self, ref: str, locked: bool) -> Change:
        from dispatch_tui.services.planning.assignment import set_locked

        with self.session(write=True) as session:
            return set_locked(session, ref, locked, zone=self.settings.zone, actor=self.actor)

    def set_status(self, ref: str, status: str, at: datetime | None = None) -> Change:
        """The next lifecycle step, as of ``at`` (default now)."""
        from dispatch_tui.services.execution.lifecycle import set_status

        with self.session(write=True) as session:
            return set_status(session, ref, status, at=at, now=self.now(), **self._context())

    def complete(self, ref: str, at: datetime | None = None, started_at: datetime | None = None) -> Change:
        """ "Job complete" in one action, done at ``at`` (default now); missing en-route/on-site steps are
        recorded from ``started_at`` when given, else from the plan."""
        from dispatch_tui.services.execution.lifecycle import complete

        with self.session(write=True) as session:
            return complete(session, ref, at=at, started_at=started_at, now=self.now(), **self._context())

    def place(self, ref: str, tech_ref: str, day: date, minute: int, span: int) -> Change:
        from dispatch_tui.services.planning.placement import place

        with self.session(write=True) as session:
            return place(session, ref, tech_ref, day, minute, span=span, **self._context())

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

    def feedback(self, ref: str, rating: int, comment: str = "") -> Rated:
        """The customer's rating (1-5) of a finished visit; a later one replaces it. Refused otherwise."""
        from dispatch_tui.services.execution.feedback import record_feedback

        with self.session(write=True) as session:
            return record_feedback(session, ref, rating, comment, actor=self.actor, at=self.now())

    def _context(self) -> dict[str, Any]:
        return {"zone": self.settings.zone, "travel": self.travel, "actor": self.actor}

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
