"""The customer's feedback on a finished visit: a rating of 1 to 5 and an optional comment.

Keys 1..5 (or the list and Enter) pick the rating, then the comment is typed; Enter records. The
dialog only collects them: the board records them (``Core.feedback``) and shows a refusal.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

RATINGS = {1: "poor", 2: "fair", 3: "good", 4: "very good", 5: "excellent"}


def stars(rating: int) -> str:
    return "★" * rating + "☆" * (5 - rating)


class FeedbackScreen(ModalScreen[tuple[int, str] | None]):
    """Dismissed with (rating, comment), or None when cancelled."""

    CSS_PATH = ["dialog.tcss", "feedback.tcss"]  # noqa: RUF012 - Textual reads it as a class attribute
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Cancel"),
        *[Binding(str(n), f"rate({n})", f"Rate {n}", show=False) for n in RATINGS],
    ]

    def __init__(self, job_ref: str) -> None:
        super().__init__()
        self.job_ref = job_ref
        self.rating: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = f"Feedback on {self.job_ref}"
            yield OptionList(*[Option(f"{n}  {stars(n)}  {word}", id=str(n)) for n, word in RATINGS.items()])
            yield Static("rating: none yet", id="feedback-chosen", markup=False)
            yield Input(placeholder="comment (optional)", id="feedback-comment")
            yield Static(
                "1-5 or enter: rating · then type a comment · enter: record · esc: cancel",
                classes="hint",
                id="feedback-hint",
                markup=False,
            )

    def action_rate(self, rating: int) -> None:
        self.rating = rating
        self.query_one(OptionList).highlighted = rating - 1
        self.query_one("#feedback-chosen", Static).update(f"rating: {rating}/5 {stars(rating)} {RATINGS[rating]}")
        self.query_one(Input).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.action_rate(int(event.option.id))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.rating is None:
            self.query_one("#feedback-hint", Static).update("Pick a rating first: 1 to 5.")
            self.query_one(OptionList).focus()
            return
        self.dismiss((self.rating, event.value.strip()))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
