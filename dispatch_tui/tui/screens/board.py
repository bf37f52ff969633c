"""The board: Requests, Technicians, Schedule and Status, live.

Workers do the store work (thread workers over the core, ``services.core.Core``) and post results back
as messages; the screen hands them to the panes as attributes. Knowing when the board is behind the store
(the change feed, the interval poll, the change token) is its ``BoardWatcher``'s (``tui.live``), which
asks the screen to reload.

A first load paints the queue's first page, the grid and the team before the rest of the queue and
the alerts. A write is shown from what it touched, read back right away (``Core.patch``: the job's
queue row, its technicians' rows); the next change-token check reloads the whole board to reconcile,
and a reload that began before a write landed is dropped (the patch is newer) and started again.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from textual import work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from dispatch_tui.domain import MOVABLE, STARTED, JobStatus
from dispatch_tui.tui.keys import BOARD_ACTIONS, bindings
from dispatch_tui.tui.live import BoardWatcher
from dispatch_tui.tui.widgets.board_footer import BoardFooter
from dispatch_tui.tui.widgets.requests_pane import RequestsPane
from dispatch_tui.tui.widgets.schedule_grid import ScheduleGrid
from dispatch_tui.tui.widgets.status_pane import StatusPane
from dispatch_tui.tui.widgets.technicians_pane import TechniciansPane
from dispatch_tui.tui.widgets.virtual_list import VirtualList
from dispatch_tui.tui.wording import status_label

# Steps the technician takes at a moment worth recording: the console asks when (default now).
TIMED_STEPS = (JobStatus.EN_ROUTE.value, JobStatus.ON_SITE.value, JobStatus.COMPLETED.value,
               JobStatus.NEEDS_FOLLOW_UP.value)  # fmt: skip

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from dispatch_tui.services.core import Core
    from dispatch_tui.services.execution.board import Board, JobDetail, Patch
    from dispatch_tui.services.execution.feedback import Rated
    from dispatch_tui.services.planning.assignment import Change
    from dispatch_tui.services.planning.candidates import Candidate, Nobody
    from dispatch_tui.services.planning.emergency import InsertOption

Result = TypeVar("Result")

MAX_ALERT_NOTICES = 3  # per reload: the markers in the panes show the rest
SHORT_TERMINAL_ROWS = 32  # below this many rows, alerts are notified one at a time
MIN_FIRST_PAGE = 50  # queue rows painted before the rest arrive: at least this, or two screens' worth
FIRST_PAINT_WAIT_S = 0.5  # the loader waits at most this for the first page to be drawn


@dataclass(frozen=True)
class Selection:
    kind: str  # "job" or "tech"
    ref: str


@dataclass(frozen=True)
class WriteFailure:
    """What the dispatcher is told when a write did not happen: nothing changed."""

    message: str
    title: str
    severity: SeverityLevel
    refused: bool  # the services said no (not the store failing): the board may be behind the store

    @classmethod
    def of(cls, exc: Exception) -> WriteFailure:
        from dispatch_tui.services.errors import Conflict, NotFound, Refused

        if isinstance(exc, Refused):
            return cls("\n".join(exc.reasons), "Refused: nothing changed", "warning", refused=True)
        if isinstance(exc, Conflict | NotFound):
            return cls(str(exc), "Not done", "error", refused=True)
        return cls(f"{exc.__class__.__name__}: {exc}", "Store error", "error", refused=False)


class BoardScreen(Screen[None]):
    CSS_PATH = "board.tcss"
    BINDINGS = bindings(BOARD_ACTIONS)

    class Loaded(Message):
        """A board read from the store; ``writes``: how many of this screen's writes had landed when it began."""

        def __init__(self, board: Board, writes: int, painted: threading.Event | None = None) -> None:
            self.board = board
            self.writes = writes
            self.painted = painted  # set once the board is on screen (the loader waits for a first page's)
            super().__init__()

    class Patched(Message):
        """A write landed: what it changed, read back (None if that read failed: reload instead)."""

        def __init__(self, notice: str, day: date, patch: Patch | None) -> None:
            self.notice = notice
            self.day = day  # the board day the patch was read for
            self.patch = patch
            super().__init__()

    class Failed(Message):
        def __init__(self, reason: str) -> None:
            self.reason = reason
            super().__init__()

    def __init__(self, backend: Core, day: date, poll_interval: float) -> None:
        super().__init__()
        self.backend = backend
        self.day = day
        self.poll_interval = poll_interval
        self.query_text = ""
        self.board: Board | None = None
        self.selection: Selection | None = None
        self._notified: set[tuple[str, str]] = set()
        self._frozen = False  # gc.freeze() done after the first whole board
        self.live = BoardWatcher(backend, self, on_stale=self.reload)

    def compose(self) -> ComposeResult:
        zone = self.backend.settings.zone
        yield RequestsPane(zone, id="requests")
        yield ScheduleGrid(id="schedule")
        yield TechniciansPane(id="technicians")
        yield StatusPane(zone, id="status")
        yield BoardFooter()

    def on_mount(self) -> None:
        self.query_one(RequestsPane).focus()
        self.reload(staged=True)
        self.live.start(self.poll_interval)

    def on_unmount(self) -> None:
        self.live.close()
        if self._frozen:
            gc.unfreeze()  # the console is closing (or a test's app ends): let its objects be collected

    # Loading.
    @work(thread=True, exclusive=True, group="board")
    def reload(self, *, staged: bool = False) -> None:
        """Read the whole board; ``staged``: post the first page of the queue, the grid and the team first
        (a launch, a new filter: nothing useful is on screen yet)."""
        worker = get_current_worker()
        writes = self.live.writes

        def first_page(board: Board) -> None:
            if not worker.is_cancelled:
                painted = threading.Event()
                self.post_message(self.Loaded(board, writes, painted))
                # Let the first page be drawn before reading the rest: both need the interpreter, and the
                # screen drawn a moment sooner is the point of a first page.
                painted.wait(FIRST_PAINT_WAIT_S)

        page = max(MIN_FIRST_PAGE, 2 * self.app.size.height)
        try:
            board = self.backend.board(self.day, self.query_text, on_first_page=first_page if staged else None,
                                       first_page=page)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - any store failure is shown, the console stays up
            self.post_message(self.Failed(f"cannot read the store {self.backend.settings.db}: {exc}"))
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(board, writes))

    def on_board_screen_loaded(self, message: Loaded) -> None:
        if message.painted is not None:
            self.call_after_refresh(message.painted.set)
        if message.writes < self.live.writes:
            # Read (at least partly) before one of our writes landed: the board on screen, patched with
            # that write, is newer. Read again rather than show the write undone for a moment.
            if not message.board.partial:
                self.reload()
            return
        self._show(message.board)
        if not message.board.partial:
            self._notify_alerts(message.board)
            if self.selection is not None:
                self.show_detail(self.selection)
            if not self._frozen:
                # What is alive now (modules, the app, the first board) lives as long as the console: full
                # collections need not walk it again and again (they were ~35 ms pauses while ranking).
                gc.freeze()
                self._frozen = True
                # The first call of the day should not wait for the customer index (seconds on a big store).
                self.run_worker(self.backend.warm_lookup, thread=True, group="warm", exit_on_error=False)

    def on_board_screen_patched(self, message: Patched) -> None:
        self.notify(message.notice, timeout=4)
        if message.patch is None or self.board is None or self.board.grid.day != message.day:
            self.reload()
        else:
            self._show(self.board.patched(message.patch))
        if self.selection is not None:
            self.show_detail(self.selection)

    def _show(self, board: Board) -> None:
        """Attributes down: each pane gets its part of ``board``."""
        self.board = board
        self.live.shown_token = board.token
        flagged = board.flagged
        requests = self.query_one(RequestsPane)
        requests.alerted = flagged
        requests.day = board.grid.day
        requests.border_title = f"Requests ({board.waiting})" + (f" /{self.query_text}" if self.query_text else "")
        problems = self._filter_problems(board.skills)
        requests.empty_text = (
            "; ".join(problems)
            if problems
            else (f"No waiting requests match /{self.query_text}." if self.query_text else "No waiting requests.")
        )
        requests.set_rows(board.requests)
        technicians = self.query_one(TechniciansPane)
        technicians.alerted = flagged
        technicians.set_rows(board.technicians)
        grid = self.query_one(ScheduleGrid)
        grid.alerted = flagged
        grid.clock_note = self.backend.clock.describe(self.backend.settings.zone)
        grid.set_grid(board.grid)

    def on_board_screen_failed(self, message: Failed) -> None:
        self.query_one(StatusPane).show_message(message.reason, error=True)
        self.notify(message.reason, severity="error", timeout=10)

    def _notify_alerts(self, board: Board) -> None:
        fresh = board.alert_keys() - self._notified
        if not fresh:
            return
        self._notified |= fresh
        shown = 0
        # A short terminal (80 × 24) gets one notice and the count: three would cover the whole board.
        room = MAX_ALERT_NOTICES if self.size.height >= SHORT_TERMINAL_ROWS else 1
        for alert in board.alerts():  # worded one by one: only the few notified are
            if (alert.kind, alert.subject) in fresh:
                self.notify(alert.message, title=alert.kind.replace("_", " "), severity="warning", timeout=8)
                shown += 1
                if shown == room:
                    break
        if len(fresh) > shown:
            self.notify(f"and {len(fresh) - shown} more alerts (marked ! in the panes)", severity="warning")

    # Selection: the pane with the focus decides what the Status pane shows.
    def on_virtual_list_highlighted(self, message: VirtualList.Highlighted) -> None:
        if not message.source.has_focus:
            return
        kind = "job" if isinstance(message.source, RequestsPane) else "tech"
        self._select(Selection(kind, message.row.ref))

    def on_schedule_grid_highlighted(self, message: ScheduleGrid.Highlighted) -> None:
        if self.query_one(ScheduleGrid).has_focus:
            self._select(Selection(message.kind, message.ref))

    def _select(self, selection: Selection) -> None:
        if selection != self.selection:
            self.selection = selection
            self.show_detail(selection)

    @work(thread=True, exclusive=True, group="detail")
    def show_detail(self, selection: Selection) -> None:
        board = self.board
        try:
            if selection.kind == "job":
                job = self.backend.job_detail(selection.ref)
                alerts = board.alerts_for(selection.ref) if board else []
                if job is not None:
                    self.app.call_from_thread(self.query_one(StatusPane).show_job, job, alerts)
            elif board is not None:
                tech = self.backend.tech_detail(selection.ref, board)
                if tech is not None:
                    self.app.call_from_thread(
                        self.query_one(StatusPane).show_tech, tech, board.grid.frame, board.alerts_for(selection.ref)
                    )
        except Exception as exc:  # noqa: BLE001 - shown in the pane, never a crash
            self.app.call_from_thread(
                self.query_one(StatusPane).show_message, f"cannot load {selection.ref}: {exc}", error=True
            )

    def messages_changed(self) -> None:
        """The console's sender sent, failed or routed messages: the selected job's are shown again, and a
        failed one (it changes the change token) reloads the board with its alert."""
        if self.selection is not None and self.selection.kind == "job":
            self.show_detail(self.selection)
        self.live.poll()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A reading worker that failed (a locked or unreachable store) is a notification, not the end of
        the console: the dispatcher can try again."""
        error = event.worker.error
        if event.state is WorkerState.ERROR and error is not None:
            self.notify(f"{error.__class__.__name__}: {error}", title="Store error", severity="error", timeout=10)

    # What the actions act on.
    def _current(self) -> Selection | None:
        """What the focused pane's cursor is on now (a key may arrive before the pane's highlight message)."""
        focused = self.focused
        if isinstance(focused, RequestsPane | TechniciansPane) and focused.highlighted is not None:
            return Selection("job" if isinstance(focused, RequestsPane) else "tech", focused.highlighted.ref)
        if isinstance(focused, ScheduleGrid):
            block, row = focused.current_block, focused.current_row
            if block or row:
                return Selection("job", block.job_ref) if block else Selection("tech", row.tech_ref)  # type: ignore[union-attr]
        return self.selection

    def _job(self) -> str | None:
        current = self._current()
        if current is not None:
            self._select(current)
        if self.selection is None or self.selection.kind != "job":
            self.notify("Select a request or a visit first.", severity="warning")
            return None
        return self.selection.ref

    def _planned(self, ref: str) -> bool:
        return self._planned_status(ref) is not None

    def _planned_status(self, ref: str) -> str | None:
        """The status of ``ref``'s visit on the shown day, or None when it has none there."""
        if self.board is None:
            return None
        return next((b.status for row in self.board.grid.rows for b in row.blocks if b.job_ref == ref), None)

    def _block_locked(self, ref: str) -> bool:
        assert self.board is not None
        return any(b.locked for row in self.board.grid.rows for b in row.blocks if b.job_ref == ref)

    # Writes: every change goes through ``_write``; a refusal is a notification with the reasons, nothing changes.
    @work(thread=True, group="write")
    def _write(self, call: Callable[[], Result], landed: Callable[[Result], None], *, recheck: bool,
               on_refused: Callable[[Exception], None] | None = None) -> None:  # fmt: skip
        """Make one façade call, then ``landed`` with what it returned (both on this thread worker).
        ``recheck``: poll after a refusal (often someone else got there first: show the board as it is);
        ``on_refused``: what follows a refusal, after its notice (on the event loop)."""
        try:
            result = call()
        except Exception as exc:  # noqa: BLE001 - a refusal or a store failure must not end the console
            failure = WriteFailure.of(exc)
            self.notify(failure.message, title=failure.title, severity=failure.severity, timeout=10)
            if failure.refused and recheck:
                self.app.call_from_thread(self.live.poll)
            if failure.refused and on_refused is not None:
                self.app.call_from_thread(on_refused, exc)
            return
        landed(result)

    def write(self, done: str, change: Callable[..., Any], ref: str, *args: Any,
              on_refused: Callable[[Exception], None] | None = None) -> Worker[None]:  # fmt: skip
        """``change(ref, *args)``, then shown from what it touched (``Core.patch``), worded by ``done``."""
        board, day = self.board, self.day
        before = [row.tech_ref for row in board.grid.rows if any(b.job_ref == ref for b in row.blocks)] if board else []

        def landed(result: Change) -> None:
            self.live.wrote()
            techs = {*before, *([result.technician_ref] if result.technician_ref else [])}
            try:
                patch: Patch | None = self.backend.patch(day, self.query_text, [ref], techs)
            except Exception:  # noqa: BLE001 - the write is done; a whole reload shows it instead
                patch = None
            self.post_message(self.Patched(done.format(change=result), day, patch))

        return self._write(partial(change, ref, *args), landed, recheck=True, on_refused=on_refused)

    def action_assign(self) -> None:
        ref = self._job()
        if ref is not None:
            status = self._planned_status(ref)
            if status is not None and status not in MOVABLE:
                self.notify(f"{ref} is {status_label(status)}: there is nothing to assign.", severity="warning")
                return
            if status is not None:
                self.notify(f"{ref} is already planned: m moves it.", severity="warning")
                return
            self.choose(ref, "Assign")

    def action_move(self) -> None:
        ref = self._job()
        if ref is not None:
            status = self._planned_status(ref)
            if status is None:
                self.notify(f"{ref} is not planned on {self.day:%a %d %b}: a assigns it.", severity="warning")
                return
            if status not in MOVABLE:
                self.notify(f"{ref} is {status_label(status)}: only a scheduled or dispatched visit moves.",
                            severity="warning")  # fmt: skip
                return
            self.choose(ref, "Move")

    @work(thread=True, exclusive=True, group="candidates", exit_on_error=False)
    def choose(self, ref: str, verb: str) -> None:
        from dispatch_tui.services.planning.candidates import UnknownJob

        day = self.day if verb == "Move" else None
        try:
            options = self.backend.candidates(ref, day)
            why = None if options else self.backend.why_no_candidates(ref, day)
        except UnknownJob as missing:
            self.notify(str(missing), severity="error")
            return
        self.app.call_from_thread(self._open_assign, ref, verb, options, why)

    def _open_assign(self, ref: str, verb: str, options: list[Candidate], why: Nobody | None) -> None:
        from dispatch_tui.tui.screens.assign import AssignScreen

        def chosen(candidate: Candidate | None) -> None:
            if candidate is None:
                return
            if verb == "Assign":
                self.write("Assigned {change.job_ref} to {change.technician_ref}", self.backend.assign, ref,
                           candidate.technician_ref, candidate.start)  # fmt: skip
            else:
                self.write("Moved {change.job_ref} to {change.technician_ref}", self.backend.move, ref,
                           candidate.technician_ref, candidate.start)  # fmt: skip

        self.app.push_screen(AssignScreen(ref, verb, options, self.backend.settings.zone, why), chosen)

    def action_insert_now(self) -> None:
        ref = self._job()
        if ref is not None:
            if self._planned(ref):
                self.notify(f"{ref} is already planned: m moves it.", severity="warning")
                return
            self.insert_options(ref)

    @work(thread=True, exclusive=True, group="candidates", exit_on_error=False)
    def insert_options(self, ref: str) -> None:
        try:
            options = self.backend.insert_options(ref)
        except Exception as exc:  # noqa: BLE001 - a refusal (not waiting, window passed) or a store failure
            failure = WriteFailure.of(exc)
            self.notify(failure.message, title=failure.title, severity=failure.severity, timeout=10)
            return
        self.app.call_from_thread(self._open_insert, ref, options)

    def _open_insert(self, ref: str, options: list[InsertOption]) -> None:
        from dispatch_tui.tui.screens.insert import InsertScreen

        def chosen(number: int | None) -> None:
            if number is not None:
                self.write(f"Inserted {ref} on {{change.technician_ref}}", self.backend.insert, ref, number)

        self.app.push_screen(InsertScreen(ref, options, self.backend.settings.zone), chosen)

    # Taking a call (``tui.calls``): the customer, the request, the times to offer, the booking.
    def action_new_request(self) -> None:
        from dispatch_tui.tui.calls import CallTaking

        CallTaking(self).take_call()

    def action_book(self) -> None:
        from dispatch_tui.tui.calls import CallTaking

        ref = self._job()
        if ref is not None:
            if self._planned(ref):
                self.notify(f"{ref} is already planned: m moves it.", severity="warning")
                return
            CallTaking(self).offer(ref)

    def action_unassign(self) -> None:
        ref = self._job()
        if ref is not None:
            self.write("Unassigned {change.job_ref}: back in the queue", self.backend.unassign, ref)

    def action_lock(self) -> None:
        ref = self._job()
        if ref is not None:
            if not self._planned(ref):
                self.notify(f"{ref} is not on anyone's day: nothing to lock.", severity="warning")
                return
            locked = not self._block_locked(ref)
            self.write(("Locked" if locked else "Unlocked") + " {change.job_ref}", self.backend.set_locked, ref, locked)

    def action_complete(self) -> None:
        ref = self._job()
        if ref is not None:
            self.prepare_complete(ref)

    @work(thread=True, exclusive=True, group="candidates", exit_on_error=False)
    def prepare_complete(self, ref: str) -> None:
        job = self.backend.job_detail(ref)
        if job is not None:
            self.app.call_from_thread(self._ask_complete, job)

    def _ask_complete(self, job: JobDetail) -> None:
        """When it was done, and when the technician arrived if that was never reported: as `dispatch
        complete --at --started` asks. A job that cannot be completed goes straight to the gate's refusal."""
        from dispatch_tui.tui.screens.step_time import StepTimeScreen, TimeField

        ref = job.ref
        if job.status not in STARTED:
            self.write("{change.job_ref} completed", self.backend.complete, ref)
            return
        now = self.backend.now()
        fields = [TimeField("at", "done at", self._typed(now))]
        if job.status != JobStatus.ON_SITE.value:
            planned = job.start is not None and job.start <= now
            blank = f"the planned start, {self._typed(job.start)}" if planned and job.start else ""
            fields.append(TimeField("started", "arrived at", "", blank))

        def chosen(times: dict[str, datetime | None] | None) -> None:
            if times is not None:
                self.write("{change.job_ref} completed", self.backend.complete, ref, times["at"], times.get("started"))

        self.app.push_screen(StepTimeScreen(f"Complete {ref}", fields, self.day, self.backend.settings.zone), chosen)

    def _typed(self, moment: datetime) -> str:
        """A moment as a dispatcher types it here: HH:MM on the shown day, else the whole local time."""
        local = moment.astimezone(self.backend.settings.zone)
        return f"{local:%H:%M}" if local.date() == self.day else f"{local:%Y-%m-%dT%H:%M}"

    def action_set_status(self) -> None:
        ref = self._job()
        if ref is not None:
            self.pick_status(ref)

    @work(thread=True, exclusive=True, group="candidates", exit_on_error=False)
    def pick_status(self, ref: str) -> None:
        from dispatch_tui.services.execution.lifecycle import next_statuses

        job = self.backend.job_detail(ref)
        if job is None:
            return
        self.app.call_from_thread(self._open_status, ref, job.status, next_statuses(job.status))

    def _open_status(self, ref: str, status: str, options: list[str]) -> None:
        from dispatch_tui.tui.screens.set_status import SetStatusScreen

        if not options:
            self.notify(f"{ref} is {status}: it cannot change any more.", severity="warning")
            return

        def chosen(new: str | None) -> None:
            if new in TIMED_STEPS:
                self._ask_step_time(ref, new)
            elif new:
                self.write("{change.job_ref} is now " + status_label(new), self.backend.set_status, ref, new)

        self.app.push_screen(SetStatusScreen(ref, status, options), chosen)

    def _ask_step_time(self, ref: str, new: str) -> None:
        """A step the technician took (left, arrived, finished): when, defaulting to now (`--at`)."""
        from dispatch_tui.tui.screens.step_time import StepTimeScreen, TimeField

        def chosen(times: dict[str, datetime | None] | None) -> None:
            if times is not None:
                self.write("{change.job_ref} is now " + status_label(new), self.backend.set_status, ref, new,
                           times["at"])  # fmt: skip

        field = TimeField("at", f"{status_label(new)} at", self._typed(self.backend.now()))
        title = f"{ref}: {status_label(new)}"
        self.app.push_screen(StepTimeScreen(title, [field], self.day, self.backend.settings.zone), chosen)

    def action_filter(self) -> None:
        from dispatch_tui.tui.screens.filter import FilterScreen

        def chosen(text: str | None) -> None:
            if text is not None:
                self.query_text = text.strip()
                for problem in self._filter_problems(skills):
                    self.notify(problem, title="Filter", severity="error")
                self.reload(staged=True)

        skills = self.board.skills if self.board else []
        self.app.push_screen(FilterScreen(self.query_text, skills), chosen)

    def _filter_problems(self, skills: Sequence[str]) -> list[str]:
        """What in the filter names nothing that exists ('unknown skill foo'): said, not an empty queue."""
        from dispatch_tui.services.execution.board import RequestFilter

        return RequestFilter.parse(self.query_text).problems(skills) if self.query_text else []

    def action_go_to_date(self) -> None:
        from dispatch_tui.tui.screens.goto_date import GoToDateScreen

        self.app.push_screen(GoToDateScreen(self.day, self._today()), self._go_to)

    def _go_to(self, day: date | None) -> None:
        if day is not None and day != self.day:
            self.day = day
            self.reload()

    def _today(self) -> date:
        return self.backend.clock.today(self.backend.settings.zone)

    def action_day(self, step: int) -> None:
        self._go_to(self.day + timedelta(days=step))

    def action_today(self) -> None:
        self._go_to(self._today())

    def action_refresh(self) -> None:
        self.reload()

    def action_optimize(self) -> None:
        from dispatch_tui.tui.screens.optimize import OptimizeScreen

        def closed(summary: str | None) -> None:
            if summary:
                self.notify(summary, title="Optimizer", timeout=8)
            self.reload()

        limit = self.app.optimize_time_limit  # type: ignore[attr-defined]
        screen = OptimizeScreen(self.backend.settings, self.day, limit, now=self.backend.now())
        self.app.push_screen(screen, closed)

    # Reports and the customer's word: the KPI dialog reads in its own worker, a rating is a write.
    def action_kpi(self) -> None:
        from dispatch_tui.tui.screens.kpi import KpiScreen

        self.app.push_screen(KpiScreen(self.backend.kpis, self.day))

    def action_late_list(self) -> None:
        from dispatch_tui.tui.screens.late import LateScreen

        self.app.push_screen(LateScreen(self.backend.late_list, self.day, self.backend.settings.zone))

    def action_feedback(self) -> None:
        from dispatch_tui.tui.screens.feedback import FeedbackScreen

        ref = self._job()
        if ref is None:
            return

        def chosen(answer: tuple[int, str] | None) -> None:
            if answer is not None:
                self.rate(ref, *answer)

        self.app.push_screen(FeedbackScreen(ref), chosen)

    def rate(self, ref: str, rating: int, comment: str) -> Worker[None]:
        """Record a rating; a refusal (the visit is not finished) is a notification, nothing changes."""

        def landed(rated: Rated) -> None:
            was = f" (was {rated.replaced}/5)" if rated.replaced is not None else ""
            self.notify(f"Rated {rated.job_ref} {rated.rating}/5{was}", timeout=4)
            self.app.call_from_thread(self.live.poll)  # the audit trail in the Status pane shows the rating

        return self._write(partial(self.backend.feedback, ref, rating, comment), landed, recheck=False)

    # Drops from a drag, on the grid: the same rules as every other change.
    def on_schedule_grid_drop_requested(self, message: ScheduleGrid.DropRequested) -> None:
        self.write(
            "Placed {change.job_ref} on {change.technician_ref}", self.backend.place, message.job_ref,
            message.tech_ref, self.day, message.minute, message.span,
        )  # fmt: skip
