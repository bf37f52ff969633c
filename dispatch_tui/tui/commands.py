"""The command palette (ctrl+p): every action of the console, by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from dispatch_tui.tui.keys import APP_ACTIONS, BOARD_ACTIONS, Action
from dispatch_tui.tui.screens.help import key_label


class DispatchCommands(Provider):
    def _actions(self) -> list[tuple[Action, object]]:
        board = getattr(self.app, "board_screen", None)
        found: list[tuple[Action, object]] = [(a, board) for a in BOARD_ACTIONS if board is not None]
        return found + [(a, self.app) for a in APP_ACTIONS]

    def _label(self, action: Action) -> str:
        keymap = getattr(self.app, "keymap", {})
        return f"{action.help} ({key_label(keymap.get(action.id, action.keys))})"

    async def discover(self) -> Hits:
        for action, target in self._actions():
            yield DiscoveryHit(self._label(action), partial(target.run_action, action.action), help=action.id)  # type: ignore[attr-defined]  # target: a screen or the app, held as object

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action, target in self._actions():
            label = self._label(action)
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), partial(target.run_action, action.action), help=action.id)  # type: ignore[attr-defined]  # target: a screen or the app, held as object
