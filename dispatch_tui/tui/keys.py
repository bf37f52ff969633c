"""Every action of the console: its binding id (what `keymap` in the settings refers to), default
keys and words. The bindings, the help screen and the command palette are all made from this list."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class Action:
    id: str  # the binding id: `keymap = {assign = "ctrl+a"}` rebinds it
    keys: str
    action: str
    description: str  # short: the footer shows it
    help: str
    show: bool = True


BOARD_ACTIONS: tuple[Action, ...] = (
    Action("new_request", "n", "new_request", "New request", "Take a call: find the customer, the request, a time"),
    Action("assign", "a", "assign", "Assign", "Assign the highlighted request: ranked candidates"),
    Action("book", "b", "book", "Book", "Times to offer the customer for the waiting request; enter books one"),
    Action("move", "m", "move", "Move", "Move the highlighted visit to another candidate"),
    Action("unassign", "u", "unassign", "Unassign", "Take the visit off its day: back to the queue"),
    Action("insert_now", "i", "insert_now", "Insert now", "Emergency today: who can be there soonest", show=False),
    Action("lock", "l", "lock", "Lock", "Lock or unlock the visit (nobody, nor the optimizer, moves it)"),
    Action("set_status", "s", "set_status", "Status", "Set the job's status (dispatched, en route, on site, on hold…)"),
    Action("complete", "c", "complete", "Complete", "Job complete in one step (dispatched, en route or on site)"),
    Action("feedback", "f", "feedback", "Feedback", "Rate a finished visit: the customer's 1-5 and a comment"),
    Action("filter", "slash", "filter", "Filter", "Filter the requests: skill:, source:, status:, text"),
    Action("optimize", "o", "optimize", "Optimize", "Optimize the shown day: preview, accept all or per technician"),
    Action("go_to_date", "g", "go_to_date", "Date", "Go to a date"),
    # K, not k: k moves the cursor up in every pane and would never reach the board.
    Action("kpi", "K", "kpi", "KPIs", "KPIs of the 7 days ending on the shown day: overall, per technician, daily"),
    Action("late_list", "L", "late_list", "Late", "Late list: who is behind plan, by how much, and windows missed"),
    Action("day_back", "left_square_bracket", "day(-1)", "Day back", "Previous day", show=False),
    Action("day_forward", "right_square_bracket", "day(1)", "Day forward", "Next day", show=False),
    Action("today", "t", "today", "Today", "Back to today", show=False),
    Action("refresh", "r", "refresh", "Reload", "Reload the board now", show=False),
)
APP_ACTIONS: tuple[Action, ...] = (
    Action("help", "question_mark", "help", "Help", "Help: every key"),
    Action("quit", "q", "quit", "Quit", "Quit"),
)
NAVIGATION = (
    ("tab / shift+tab", "next / previous pane"),
    ("up down / j k", "move inside a pane"),
    ("left right", "previous / next visit in the schedule"),
    ("pageup pagedown home end", "scroll a list"),
    ("enter", "choose (in a dialog)"),
    ("escape", "close a dialog (cancels an optimizer run)"),
    ("ctrl+p", "command palette: every action by name"),
    ("mouse", "drag a request or a visit onto a technician's row at a time"),
)


def bindings(actions: tuple[Action, ...]) -> list[BindingType]:
    return [Binding(a.keys, a.action, a.description, show=a.show, id=a.id) for a in actions]
