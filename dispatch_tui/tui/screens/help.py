"""Help: every key, as bound now (after the keymap from the settings), with its binding id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from dispatch_tui.tui.keys import APP_ACTIONS, BOARD_ACTIONS, NAVIGATION


def key_label(keys: str) -> str:
    names = {"slash": "/", "question_mark": "?", "left_square_bracket": "[", "right_square_bracket": "]"}
    return " ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


def bindings_table(keymap: Mapping[str, str]) -> Table:
    table = Table("key", "action", "id (for keymap)", box=None, pad_edge=False)
    for action in (*BOARD_ACTIONS, *APP_ACTIONS):
        table.add_row(key_label(keymap.get(action.id, action.keys)), action.help, action.id)
    for keys, what in NAVIGATION:
        table.add_row(keys, what, "")
    return table


class HelpScreen(ModalScreen[None]):
    CSS_PATH = ["dialog.tcss", "help.tcss"]  # noqa: RUF012 - Textual reads it as a class attribute
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,q", "dismiss_none", "Close")]

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog") as box:
            box.border_title = "Keys"
            yield Static(bindings_table(self.keymap), id="help-table")
            yield Static('Change a key in the settings file: [keymap] assign = "ctrl+a"', classes="hint", markup=False)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
