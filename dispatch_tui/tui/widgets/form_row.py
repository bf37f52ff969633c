"""One field of a dialog's form: its label on the left, the field (compact, one line) on the right; the
label lights up while the field has the focus, so that a form of one-line fields still shows where one is."""

from __future__ import annotations

from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Static


class FormRow(Horizontal):
    DEFAULT_CSS = """
    FormRow { height: auto; margin-bottom: 1; }
    FormRow > .form-label { width: 16; height: 1; color: $text-muted; }
    FormRow > .form-field { width: 1fr; }
    FormRow:focus-within > .form-label { color: $accent; text-style: bold; }
    """

    def __init__(self, label: str, field: Widget) -> None:
        field.add_class("form-field")
        if hasattr(field, "compact"):
            field.compact = True
        super().__init__(Static(label, classes="form-label", markup=False), field)
