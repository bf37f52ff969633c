"""The optimizer's preview: the day's changes by technician; accept all, one technician's, or reject.

The solver runs in a child process (``PreviewRun``): the board stays live, and Esc ends the run.
Applying runs in a worker too, in one transaction; jobs a dispatcher changed meanwhile are skipped.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from dispatch_tui.domain import ChangeKind

if TYPE_CHECKING:
    from dispatch_tui.config import Settings
    from dispatch_tui.services.planning.optimize import Built, Change, Report


class OptimizeScreen(ModalScreen[str | None]):
    CSS_PATH = ["dialog.tcss", "optimize.tcss"]  # noqa: RUF012 - Textual reads it as a class attribute
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "accept_all", "Accept all"),
        Binding("t", "accept_technician", "Accept this technician"),
        Binding("r,escape", "reject", "Reject / cancel"),
        # j/k move through the changes as they do in every pane (the table itself knows only the arrows).
        Binding("j", "move_cursor(1)", "Down", show=False),
        Binding("k", "move_cursor(-1)", "Up", show=False),
    ]

    class Solved(Message):
        def __init__(self, built: Built, report: Report) -> None:
            self.built = built
            self.report = report
            super().__init__()

    class Failed(Message):
        def __init__(self, reason: str) -> None:
            self.reason = reason
            super().__init__()

    def __init__(
        self,
        settings: Settings,
        day: date,
        time_limit_s: float,
        *,
        now: datetime | None = None,
        preview: tuple[Built, Report] | None = None,
    ) -> None:
        """``now``: the part of the day before it is history (kept, nothing new starts there).
        ``preview``: a plan already solved (and diffed) to show instead of starting a run."""
        super().__init__()
        self.settings = settings
        self.day = day
        self.now = now
        self.time_limit_s = time_limit_s
        self._preview = preview
        self.built: Built | None = None
        self.report: Report | None = None
        self.rows: list[Change] = []
        self._applying = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = f"Optimize {self.day:%a %d %b %Y}"
            yield Static(
                f"Optimizing {self.day:%a %d %b} (up to {self.time_limit_s:g} s) in a separate process…",
                id="optimize-summary",
            )
            table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True, id="optimize-changes")
            table.add_columns("technician", "job", "change", "from", "to")
            table.display = False
            yield table
            yield Static("esc: cancel the run", classes="hint", id="optimize-hint")

    def on_mount(self) -> None:
        if self._preview is not None:
            self.post_message(self.Solved(*self._preview))
        else:
            self.solve()

    @work(thread=True, exclusive=True, group="solve")
    def solve(self) -> None:
        from dispatch_tui.services.planning.plan_preview import PreviewFailed, PreviewRun

        worker = get_current_worker()
        try:
            run = PreviewRun(self.settings, self.day, self.time_limit_s, now=self.now)
        except OSError as exc:
            self.post_message(self.Failed(f"cannot start the optimizer: {exc}"))
            return
        try:
            while not worker.is_cancelled:
                result = run.wait(0.1)
                if result is not None:
                    self.post_message(self.Solved(*result))
                    return
        except PreviewFailed as failed:
            self.post_message(self.Failed(str(failed)))
        finally:
            run.cancel()  # ends the child (and its solver processes) if it is still running

    def on_optimize_screen_solved(self, message: Solved) -> None:
        self.built, self.report = message.built, message.report
        report, frame = message.report, message.built.plan.frame
        self.rows = sorted(report.changes, key=lambda c: (_tech(c), c.job_ref))
        table = self.query_one(DataTable)
        for change in self.rows:
            before = f"{change.before.tech_ref} {frame.clock(change.before.start)}" if change.before else "queue"
            after = f"{change.after.tech_ref} {frame.clock(change.after.start)}" if change.after else "queue"
            table.add_row(_tech(change), change.job_ref, change.kind, before, after)
        table.display = bool(self.rows)
        summary = (
            f"{len(report.changes)} changes: {report.count(ChangeKind.ADD)} added, {report.moved} moved, "
            f"{report.count(ChangeKind.RETIME)} retimed, {report.count(ChangeKind.DROP)} dropped · "
            f"{report.assigned} planned, "
            f"{report.unassigned} left · driving {report.before.travel} → {report.after.travel} min"
        )
        self.query_one("#optimize-summary", Static).update(
            summary if self.rows else "The plan is already the best found: no changes."
        )
        hint = "a: accept all · t: accept the highlighted technician (and those it trades jobs with) · r/esc: reject"
        self.query_one("#optimize-hint", Static).update(hint if self.rows else "esc: close")
        if self.rows:
            table.focus()

    def on_optimize_screen_failed(self, message: Failed) -> None:
        self.query_one("#optimize-summary", Static).update(f"No plan: {message.reason}")
        self.query_one("#optimize-hint", Static).update("esc: close")

    def action_move_cursor(self, step: int) -> None:
        table = self.query_one(DataTable)
        if table.display and table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    def action_reject(self) -> None:
        if self._applying:
            return
        running = self.report is None
        self.workers.cancel_group(self, "solve")
        self.dismiss(
            "Optimizer run cancelled: nothing changed" if running else "Optimizer plan rejected: nothing changed"
        )

    def action_accept_all(self) -> None:
        if self.report is not None and self.rows and not self._applying:
            self.apply(self.report, "all")

    def action_accept_technician(self) -> None:
        if self.report is None or not self.rows or self._applying:
            return
        from dispatch_tui.services.planning.plan_preview import linked_technicians, only_technicians

        row = self.query_one(DataTable).cursor_row
        techs = linked_technicians(self.report, _tech(self.rows[row]))
        self.apply(only_technicians(self.report, techs), ", ".join(sorted(techs)))

    @work(thread=True, exclusive=True, group="apply")
    def apply(self, report: Report, what: str) -> None:
        from dispatch_tui.services.planning.plan_preview import apply_preview
        from dispatch_tui.services.planning.run_lock import Busy

        assert self.built is not None
        self._applying = True
        self.app.call_from_thread(self.query_one("#optimize-hint", Static).update, "applying…")
        try:
            done = apply_preview(self.settings, self.built, report)
        except Busy as busy:
            self._applying = False
            self.notify(str(busy), severity="warning")
            return
        except Exception as exc:  # noqa: BLE001 - shown; nothing half-written (one transaction)
            self._applying = False
            self.notify(f"applying failed, nothing changed: {exc}", severity="error", timeout=10)
            return
        applied = len(done.changes) - len(done.skipped)
        summary = f"Applied {applied} optimizer changes ({what})" + (
            f"; {len(done.skipped)} skipped: changed meanwhile" if done.skipped else ""
        )
        self.app.call_from_thread(self.dismiss, summary)


def _tech(change: Change) -> str:
    placement = change.after or change.before
    assert placement is not None
    return placement.tech_ref
