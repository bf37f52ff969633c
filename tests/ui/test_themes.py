"""The board reads on light and dark terminals: its colours come from the theme, with enough contrast."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rich.color import Color as RichColor
from sqlalchemy import Engine
from textual.app import App
from textual.widget import Widget

from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.palette import Palette, palette
from dispatch_tui.tui.widgets.requests_pane import RequestsPane
from dispatch_tui.tui.widgets.schedule_grid import ScheduleGrid
from dispatch_tui.tui.widgets.technicians_pane import TechniciansPane
from tests.ui.helpers import settle

AppFactory = Callable[..., DispatchApp]
MIN_CONTRAST = 3.0  # WCAG's floor for large text; the fixed yellow drive line on a light theme is 1.1


def luminance(color: RichColor) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = color.get_truecolor()
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(a: RichColor, b: RichColor) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def theme_palette(app: App[Any]) -> Palette:
    """The app's palette: ``palette`` takes ``App[object]``, which an ``App[None]`` is not (App is invariant)."""
    return palette(app)


def scheduled_background(app: App[Any]) -> str:
    background = theme_palette(app).job_status["scheduled"].bgcolor
    assert background is not None, "a scheduled block has a background"
    return background.name


def coloured_text(widget: Widget, background: RichColor) -> list[tuple[str, float]]:
    """Every piece of coloured text the widget draws now, with its contrast against what it is drawn on."""
    found = []
    for y in range(widget.scrollable_content_region.height):
        for segment in widget.render_line(y):
            style = segment.style
            if style is None or style.color is None or not segment.text.strip() or style.dim:
                continue
            if style.reverse:
                continue  # the cursor: the terminal swaps the colours
            found.append((segment.text, contrast(style.color, style.bgcolor or background)))
    return found


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
async def test_every_coloured_word_and_block_reads_on_the_theme(demo: Engine, make_app: AppFactory, theme: str) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        app.theme = theme
        await settle(pilot)
        colours = theme_palette(app)
        background = colours.background.rich_color
        seen = []
        for kind in (ScheduleGrid, TechniciansPane, RequestsPane):
            widget = app.board_screen.query_one(kind)
            widget.blur()  # no focused cursor row: its colours are the theme's accent, checked by Textual
            seen += coloured_text(widget, background)
        assert len(seen) > 50, "the demo's board draws coloured blocks, statuses and drives"
        poor = [(text, round(ratio, 2)) for text, ratio in seen if ratio < MIN_CONTRAST]
        assert not poor, f"hard to read on {theme}: {poor[:10]}"


async def test_switching_the_theme_recolours_the_schedule(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        grid = app.board_screen.query_one(ScheduleGrid)

        def block_backgrounds() -> set[str]:
            return {
                s.style.bgcolor.name
                for y in range(1, 10)
                for s in grid.render_line(y)
                if s.style and s.style.bgcolor and any(ch.isalnum() for ch in s.text)
            }

        dark = block_backgrounds()
        assert scheduled_background(app) in dark
        app.theme = "textual-light"
        await settle(pilot)
        light = block_backgrounds()
        assert scheduled_background(app) in light
        assert light != dark
