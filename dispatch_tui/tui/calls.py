"""Taking a call, from the board: who is calling, what they need, and a time agreed with them.

The board's key n starts the call (``CallTaking.take_call``): the customer found or entered
(``FindCustomerScreen``, ``NewCustomerScreen``), the request (``NewRequestScreen``, with the duplicate
guard), then the times to offer (``SlotsScreen``). Key b on a waiting request opens the times alone
(``CallTaking.offer``). The dialogs read and save in their own thread workers and keep a refusal on
screen, to be corrected there; the booking is a change to the plan and goes through the board's one
write path (``BoardScreen.write``: its notice, the board patched). A window taken meanwhile by another
dispatcher (``SlotTaken``) is said, and the times are offered again, fresh.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dispatch_tui.tui.screens.board import BoardScreen
    from dispatch_tui.tui.screens.find_customer import Caller
    from dispatch_tui.tui.screens.new_request import Noted, Taken
    from dispatch_tui.tui.screens.slots import Chosen

TAKEN_NOTICE = "That window was just taken (another booking got there first): these are the times left."


def refusal_text(exc: Exception) -> str:
    """What a dialog shows when its save did not happen: the board's own words for it (``WriteFailure``)."""
    from dispatch_tui.tui.screens.board import WriteFailure

    failure = WriteFailure.of(exc)
    return f"{failure.title}:\n{failure.message}"


class CallTaking:
    """One call's way through the dialogs, for ``board`` (its core, its write path, its notices)."""

    def __init__(self, board: BoardScreen) -> None:
        self.board = board
        self.backend = board.backend
        self.zone = board.backend.settings.zone

    def take_call(self, query: str = "") -> None:
        """n: find the caller (``query``: what is typed already, coming back from the form)."""
        from dispatch_tui.tui.screens.find_customer import FindCustomerScreen

        finder = FindCustomerScreen(self.backend.find_customers, self.backend.create_customer, self.zone, query)

        def picked(caller: Caller | None) -> None:
            if caller is not None:
                self.request_for(caller, finder.typed)

        self.board.app.push_screen(finder, picked)

    def request_for(self, caller: Caller, query: str = "") -> None:
        from dispatch_tui.tui.screens.new_request import NewRequestScreen, Taken

        skills = self.board.board.skills if self.board.board is not None else ()
        form = NewRequestScreen(caller, skills, self.backend.new_request, self.backend.note_call, self.zone,
                                self.backend.today())  # fmt: skip

        def done(outcome: Taken | Noted | None) -> None:
            if outcome is None:  # Esc: back to the lookup, as typed
                self.take_call(query)
                return
            self.board.live.poll()  # the queue (a new request) or the audit trail (a call noted) changed
            if isinstance(outcome, Taken):
                made = outcome.request
                self.board.notify(f"New request {made.ref}: {made.skill}, {made.duration_min} min, P{made.priority}",
                                  timeout=4)  # fmt: skip
                self.offer(made.ref)
            else:
                self.board.notify(f"Call recorded on {outcome.job_ref} (no new request)", timeout=4)

        self.board.app.push_screen(form, done)

    def offer(self, ref: str, notice: str = "") -> None:
        """b (and right after a request is saved): the times to offer for ``ref``; the one chosen is booked."""
        from dispatch_tui.tui.screens.slots import SlotsScreen

        def chosen(choice: Chosen | None) -> None:
            if choice is not None:
                self.book(ref, choice)

        self.board.app.push_screen(SlotsScreen(partial(self.backend.slots, ref), ref, self.zone, notice), chosen)

    def book(self, ref: str, choice: Chosen) -> None:
        from dispatch_tui.services.planning.booking import SlotTaken
        from dispatch_tui.tui.screens.slots import window_words

        def refused(exc: Exception) -> None:
            if isinstance(exc, SlotTaken):
                self.offer(ref, TAKEN_NOTICE)

        promised = window_words(choice.slot.start, choice.window_minutes, self.zone)
        placed = " (the optimizer places the visit)" if choice.promise_only else " → {change.technician_ref}"
        book = partial(self.backend.book, window_minutes=choice.window_minutes, promise_only=choice.promise_only)
        self.board.write(f"Booked {ref}: promised {promised}{placed}", book, ref, choice.slot.start,
                         on_refused=refused)  # fmt: skip
