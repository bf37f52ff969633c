"""The request, for the customer found: skill, duration, priority, what was said, how it came in, a due time.

Saved by ``Core.new_request`` in a thread worker: the import's own checks, the next ref, the duration of
the skill's past visits when none is typed. A refusal stays in the dialog with every reason. An open job
that looks like the same problem (``PossibleDuplicate``) opens ``DuplicateScreen``: record the call on it
(``Core.note_call``), save this request anyway, or come back to the form.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from dispatch_tui.clock import on_day
from dispatch_tui.domain import JobSource
from dispatch_tui.localtime import parse_datetime
from dispatch_tui.tui.widgets.form_row import FormRow

if TYPE_CHECKING:
    from dispatch_tui.services.intake.requests import Duplicate, NewRequest
    from dispatch_tui.tui.screens.find_customer import Caller

PRIORITIES = (("1 emergency", 1), ("2 high", 2), ("3 normal", 3), ("4 low", 4))
DEFAULT_PRIORITY = 3


@dataclass(frozen=True)
class Taken:
    """The request was saved."""

    request: NewRequest


@dataclass(frozen=True)
class Noted:
    """The call was recorded on an open job instead."""

    job_ref: str
    version: int


class NewRequestScreen(ModalScreen["Taken | Noted | None"]):
    """Dismissed with what became of the call, or None (Esc: back to the customer lookup)."""

    CSS_PATH = ["dialog.tcss", "new_request.tcss"]  # noqa: RUF012 - Textual reads it as a class attribute
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Back"),
        Binding("ctrl+s", "save", "Save"),
    ]

    class Saved(Message):
        def __init__(self, outcome: Taken | Noted) -> None:
            self.outcome = outcome
            super().__init__()

    class Duplicates(Message):
        def __init__(self, duplicates: list[Duplicate]) -> None:
            self.duplicates = duplicates
            super().__init__()

    class NotSaved(Message):
        def __init__(self, reason: str) -> None:
            self.reason = reason
            super().__init__()

    def __init__(self, caller: Caller, skills: Sequence[str], take: Callable[..., NewRequest],
                 note: Callable[[str, str], int], zone: ZoneInfo, today: date) -> None:  # fmt: skip
        """``take``: ``Core.new_request``; ``note``: ``Core.note_call``; ``today``: the day HH:MM is on."""
        super().__init__()
        self.caller = caller
        self.skills = list(skills)
        self.take = take
        self.note = note
        self.zone = zone
        self.today = today
        self.saving = False

    def compose(self) -> ComposeResult:
        caller = self.caller
        sources = [(source.value.replace("_", " "), source.value) for source in JobSource]
        with Vertical(classes="dialog") as box:
            box.border_title = f"New request for {caller.name} ({caller.ref})"
            yield Static(self._about(), id="request-customer")
            if len(caller.sites) > 1:
                sites = [(site.address, i) for i, site in enumerate(caller.sites)]
                yield FormRow("site", Select(sites, value=0, allow_blank=False, id="request-site"))
            yield FormRow("skill", Select([(s, s) for s in self.skills], prompt="the skill the work needs",
                                          id="request-skill"))  # fmt: skip
            yield FormRow("duration (min)", Input(placeholder="blank: the median of the skill's past visits",
                                                  type="integer", id="request-duration"))  # fmt: skip
            yield FormRow("priority", Select(PRIORITIES, value=DEFAULT_PRIORITY, allow_blank=False,
                                             id="request-priority"))  # fmt: skip
            yield FormRow("description", Input(placeholder="what the customer says", id="request-description"))
            yield FormRow("source", Select(sources, value=JobSource.PHONE.value, allow_blank=False,
                                           id="request-source"))  # fmt: skip
            yield FormRow("due (optional)", Input(placeholder=f"HH:MM on {self.today:%a %d %b}, or YYYY-MM-DDTHH:MM",
                                                  id="request-due"))  # fmt: skip
            yield Static("", id="request-problems")
            yield Static("tab: next field · enter on a list: open it, type to jump · ctrl+s (or enter on due): save "
                         "· esc: back to the customer", classes="hint", markup=False)  # fmt: skip

    def _about(self) -> Text:
        caller = self.caller
        text = Text()
        address = caller.sites[0].address if caller.sites else ""
        text.append(" · ".join(part for part in (caller.phone, address) if part))
        if caller.open_jobs:
            jobs = ", ".join(f"{job.ref} {job.skill} ({job.status.replace('_', ' ')})" for job in caller.open_jobs)
            text.append(f"\nopen: {jobs}", style="bold")
        return text

    def on_mount(self) -> None:
        self.query_one("#request-skill", Select).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "request-due":
            self.action_save()
        else:
            self.focus_next()

    def _values(self) -> dict[str, str]:
        """The import's request columns, as text (what ``Core.new_request`` takes); ``ValueError`` for a
        due time that is no time."""
        skill = self.query_one("#request-skill", Select).value
        values = {
            "customer_ref": self.caller.ref,
            "skill": skill if isinstance(skill, str) else "",
            "duration_min": self.query_one("#request-duration", Input).value.strip(),
            "priority": str(self.query_one("#request-priority", Select).value),
            "description": self.query_one("#request-description", Input).value.strip(),
            "source": str(self.query_one("#request-source", Select).value),
        }
        due = self.query_one("#request-due", Input).value.strip()
        if due:
            try:
                values["due_by"] = parse_datetime(on_day(due, self.today), self.zone).isoformat()
            except (ValueError, OverflowError):
                raise ValueError(f"due: {due!r} is not a time: HH:MM (on {self.today:%a %d %b}) or "
                                 "YYYY-MM-DDTHH:MM") from None  # fmt: skip
        if len(self.caller.sites) > 1:
            chosen = self.query_one("#request-site", Select).value
            site = self.caller.sites[chosen if isinstance(chosen, int) else 0]
            if not site.primary:  # another site of theirs: named by its position (the primary is the default)
                values |= {"address": site.address, "lat": repr(site.lat), "lon": repr(site.lon)}
        return {key: value for key, value in values.items() if value}

    def action_save(self, *, anyway: bool = False) -> None:
        if self.saving:
            return
        problems = [] if self.query_one("#request-skill", Select).value in self.skills else ["skill: choose one"]
        try:
            values = self._values()
        except ValueError as problem:
            problems.append(str(problem))
        if problems:
            self._problem("\n".join(problems))
            return
        self.saving = True
        self._problem("Saving…", error=False)
        self.save(values, anyway)

    @work(thread=True, exclusive=True, group="new-request")
    def save(self, values: dict[str, str], anyway: bool) -> None:
        from dispatch_tui.services.intake.requests import PossibleDuplicate
        from dispatch_tui.tui.calls import refusal_text

        try:
            made = self.take(values, allow_duplicate=anyway)
        except PossibleDuplicate as found:
            self.post_message(self.Duplicates(found.duplicates))
            return
        except Exception as exc:  # noqa: BLE001 - a refusal or a store failure: shown here, nothing saved
            self.post_message(self.NotSaved(refusal_text(exc)))
            return
        self.post_message(self.Saved(Taken(made)))

    @work(thread=True, exclusive=True, group="new-request")
    def record_call(self, job_ref: str, note: str) -> None:
        from dispatch_tui.tui.calls import refusal_text

        try:
            version = self.note(job_ref, note)
        except Exception as exc:  # noqa: BLE001 - the job closed meanwhile, or a store failure: shown here
            self.post_message(self.NotSaved(refusal_text(exc)))
            return
        self.post_message(self.Saved(Noted(job_ref, version)))

    def on_new_request_screen_saved(self, message: Saved) -> None:
        self.saving = False
        self.dismiss(message.outcome)

    def on_new_request_screen_not_saved(self, message: NotSaved) -> None:
        self.saving = False
        self._problem(message.reason)

    def on_new_request_screen_duplicates(self, message: Duplicates) -> None:
        from dispatch_tui.tui.screens.duplicate import NOTE, DuplicateScreen

        self._problem("Nothing saved yet: an open job looks like this request.")

        def chosen(choice: tuple[str, str] | None) -> None:
            self.saving = False
            if choice is None:
                self._problem("Nothing saved: change the request, or save again (the open jobs are shown again).")
            elif choice[0] == NOTE:
                self.saving = True
                self.record_call(choice[1], self.query_one("#request-description", Input).value.strip())
            else:
                self.action_save(anyway=True)

        self.app.push_screen(DuplicateScreen(message.duplicates, self.caller.name), chosen)

    def _problem(self, text: str, *, error: bool = True) -> None:
        self.query_one("#request-problems", Static).update(Text(text, style="bold red" if error else "dim"))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
