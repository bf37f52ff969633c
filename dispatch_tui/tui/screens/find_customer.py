"""Who is calling: the customer found as the dispatcher types (name, phone, e-mail, ref or address).

Each keystroke restarts a short wait (``DEBOUNCE_S``); then a thread worker asks ``Core.find_customers``
(the newest lookup replaces one still running) and the results come back as a message. The highlighted
customer's open jobs and last visits are shown beside the list. Enter picks the highlighted one; the last
option, or ctrl+n, enters a new customer (``NewCustomerScreen``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from dispatch_tui.services.intake.customers import CustomerHit, NewCustomer, OpenJob, SiteInfo

DEBOUNCE_S = 0.15  # a lookup starts once the dispatcher has stopped typing this long
NEW = "new"  # the id of the "+ New customer" option


@dataclass(frozen=True)
class Caller:
    """The customer the request is for: found, or just entered."""

    ref: str
    name: str
    phone: str
    sites: tuple[SiteInfo, ...]  # the primary first
    open_jobs: tuple[OpenJob, ...] = ()

    @classmethod
    def of_hit(cls, hit: CustomerHit) -> Caller:
        return cls(hit.ref, hit.name, hit.phone, hit.sites, hit.open_jobs)

    @classmethod
    def of_new(cls, new: NewCustomer) -> Caller:
        return cls(new.ref, new.name, new.phone, (new.site,))


def hit_line(hit: CustomerHit) -> Text:
    """One option: name, ref, phone, primary address (and what matched, when it is not the name)."""
    line = Text()
    line.append(hit.name, style="bold")
    line.append(f"  {hit.ref}")
    if hit.phone:
        line.append(f"  {hit.phone}")
    if hit.sites:
        line.append(f"  {hit.sites[0].address}", style="dim")
    if hit.match.field not in ("name", "ref"):
        line.append(f"  ({hit.match.field}: {hit.match.value})", style="italic")
    return line


def hit_detail(hit: CustomerHit, zone: ZoneInfo) -> Text:
    """The highlighted customer: contact, sites, open jobs, last visits."""

    def when(moment: datetime) -> str:
        return f"{moment.astimezone(zone):%d %b %H:%M}"

    text = Text()
    text.append(f"{hit.name} ({hit.ref})\n", style="bold")
    text.append(" · ".join(part for part in (hit.phone, hit.email) if part) + "\n")
    for site in hit.sites:
        text.append(f"{'primary' if site.primary else 'site'}: {site.address}\n")
    text.append("\nOpen jobs\n", style="bold")
    for job in hit.open_jobs:
        text.append(f"  {job.ref} {job.status.replace('_', ' ')} {job.skill} P{job.priority} "
                    f"{when(job.window_start)}–{job.window_end.astimezone(zone):%H:%M}\n")  # fmt: skip
    if not hit.open_jobs:
        text.append("  none\n", style="dim")
    text.append("\nLast visits\n", style="bold")
    for visit in hit.last_visits:
        done = when(visit.finished_at) if visit.finished_at else "date unknown"
        who = f" by {visit.technician_ref}" if visit.technician_ref else ""
        text.append(f"  {visit.ref} {visit.status.replace('_', ' ')} {visit.skill} {done}{who}\n")
    if not hit.last_visits:
        text.append("  none\n", style="dim")
    return text


class FindCustomerScreen(ModalScreen[Caller | None]):
    """Dismissed with the caller picked (or entered), or None (Esc)."""

    CSS_PATH = ["dialog.tcss", "find_customer.tcss"]  # noqa: RUF012 - Textual reads it as a class attribute
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Cancel"),
        Binding("down", "cursor(1)", "Next", show=False),
        Binding("up", "cursor(-1)", "Previous", show=False),
        Binding("ctrl+n", "new_customer", "New customer"),
    ]

    class Found(Message):
        def __init__(self, query: str, hits: list[CustomerHit]) -> None:
            self.query = query
            self.hits = hits
            super().__init__()

    class Failed(Message):
        def __init__(self, query: str, reason: str) -> None:
            self.query = query
            self.reason = reason
            super().__init__()

    def __init__(self, find: Callable[[str], list[CustomerHit]], create: Callable[..., NewCustomer], zone: ZoneInfo,
                 query: str = "") -> None:  # fmt: skip
        """``find``: ``Core.find_customers``; ``create``: ``Core.create_customer`` (for a new customer)."""
        super().__init__()
        self.find = find
        self.create = create
        self.zone = zone
        self.initial = query
        self.typed = query  # what the query field holds (kept once the dialog is gone)
        self.hits: list[CustomerHit] = []
        self.shown_for: str | None = None  # the query the list shows the results of
        self._timer: Timer | None = None
        self._pick_when_found = False  # Enter came before the results of what was typed

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "New request: who is calling?"
            yield Input(
                self.initial, placeholder="name, phone, e-mail, ref or address", id="customer-query", compact=True
            )
            with Horizontal(id="customer-body"):
                yield OptionList(id="customer-hits")
                yield Static("", id="customer-detail", markup=False)
            yield Static("type to look up · up/down: choose · enter: this customer · ctrl+n: new customer · "
                         "esc: cancel", classes="hint", markup=False)  # fmt: skip

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._show([])
        if self.initial.strip():
            self.lookup(self.initial)

    # Looking up, debounced.
    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.typed = event.value
        if self._timer is not None:
            self._timer.stop()
        if not event.value.strip():
            self.shown_for = event.value
            self._show([])
            return
        self._timer = self.set_timer(DEBOUNCE_S, lambda: self.lookup(event.value))

    @work(thread=True, exclusive=True, group="lookup")
    def lookup(self, query: str) -> None:
        try:
            hits = self.find(query)
        except Exception as exc:  # noqa: BLE001 - shown in the dialog, never a crash
            self.post_message(self.Failed(query, f"cannot look customers up: {exc}"))
            return
        self.post_message(self.Found(query, hits))

    def on_find_customer_screen_found(self, message: Found) -> None:
        if message.query != self.typed:
            return  # typed on since: a newer lookup is coming
        self.shown_for = message.query
        self._show(message.hits)
        if self._pick_when_found:
            self._pick_when_found = False
            self._pick()

    def on_find_customer_screen_failed(self, message: Failed) -> None:
        if message.query == self.typed:
            self._pick_when_found = False
            self.query_one("#customer-detail", Static).update(Text(message.reason, style="bold red"))

    def _show(self, hits: list[CustomerHit]) -> None:
        """Attributes down: the options, the first highlighted."""
        self.hits = hits
        options = self.query_one(OptionList)
        options.clear_options()
        if not hits and self.typed.strip() and self.shown_for == self.typed:
            options.add_option(Option(Text(f"no customer matches {self.typed.strip()!r}", style="dim"),
                                      disabled=True))  # fmt: skip
        options.add_options([Option(hit_line(hit), id=str(i)) for i, hit in enumerate(hits)])
        options.add_option(Option(Text("+ New customer", style="bold"), id=NEW))
        options.highlighted = 0 if hits else options.option_count - 1
        self._detail()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._detail()

    def _detail(self) -> None:
        hit = self._highlighted()
        detail = self.query_one("#customer-detail", Static)
        if hit is not None:
            detail.update(hit_detail(hit, self.zone))
        elif self.typed.strip():
            detail.update(Text("Enter: a new customer with what was typed.", style="dim"))
        else:
            detail.update(Text("Type a name, a phone number, an e-mail address, a ref or an address.", style="dim"))

    def _highlighted(self) -> CustomerHit | None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return None
        chosen = options.get_option_at_index(options.highlighted).id
        return self.hits[int(chosen)] if chosen is not None and chosen != NEW else None

    def action_cursor(self, step: int) -> None:
        options = self.query_one(OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    # Picking.
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.shown_for != event.value and event.value.strip():
            # The list is of an older query: look this one up now and take its first result.
            if self._timer is not None:
                self._timer.stop()
            self._pick_when_found = True
            self.lookup(event.value)
            return
        self._pick()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._pick()

    def _pick(self) -> None:
        hit = self._highlighted()
        if hit is None:
            self.action_new_customer()
        else:
            self.dismiss(Caller.of_hit(hit))

    def action_new_customer(self) -> None:
        from dispatch_tui.tui.screens.new_customer import NewCustomerScreen

        def entered(new: NewCustomer | None) -> None:
            if new is not None:
                self.dismiss(Caller.of_new(new))

        self.app.push_screen(NewCustomerScreen(self.create, _prefill(self.typed)), entered)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


def _prefill(query: str) -> dict[str, Any]:
    """What was typed, in the field it most likely is: a phone number, an e-mail address, else a name."""
    typed = query.strip()
    if not typed:
        return {}
    if "@" in typed:
        return {"email": typed}
    if sum(c.isdigit() for c in typed) >= 6 and not any(c.isalpha() for c in typed):
        return {"phone": typed}
    return {"name": typed}
