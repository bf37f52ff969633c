"""The board from 80×24 up (issue 12, point 11): hour labels stay apart, each visit block shows its ref,
a tail of it that no other visit of the day shares, or nothing (never a cut "R00R0"), and the footer
keeps the essential keys."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.widgets.schedule_grid import NAME_WIDTH, ScheduleGrid
from tests.ui.helpers import settle

SIZES = [(80, 24), (120, 40), (200, 50)]


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_hours_and_visit_labels_stay_readable(
    demo: Engine, make_app: Callable[..., DispatchApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        grid = app.board_screen.query_one(ScheduleGrid)
        assert grid.grid is not None
        header = grid.render_line(0).text[NAME_WIDTH:]
        hours = re.findall(r"\d+", header)
        assert hours and all(len(label) == 2 for label in hours), header  # "07 08", never "070809"
        refs = [block.job_ref for row in grid.grid.rows for block in row.blocks]
        visible = min(len(grid.grid.rows), grid.scrollable_content_region.height - 1)
        shown = 0
        for y in range(1, visible + 1):
            cells = grid.render_line(y).text[NAME_WIDTH:]
            for label in re.findall(r"#?[A-Za-z0-9]+", cells):
                label = label.lstrip("#")
                matches = [ref for ref in refs if ref.endswith(label)]
                assert label in refs or len(matches) == 1, f"{label!r} is no visit's ref at {size}: {cells!r}"
                shown += 1
        assert shown >= visible  # most rows have a visit labelled: labels are not all dropped


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_footer_keeps_the_essential_keys(
    demo: Engine, make_app: Callable[..., DispatchApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        footer = app.board_screen.query_one(Footer)
        shown = {key.key_display: key for key in footer.query(FooterKey)}
        for essential in ("a", "c", "/", "o", "?", "q"):
            assert essential in shown, f"{essential} missing from the footer at {size}: {sorted(shown)}"
            key = shown[essential]
            assert key.region.right <= size[0], f"{essential} is drawn past the edge at {size}"


async def test_the_queue_keeps_ref_window_and_due_at_80_columns(
    demo: Engine, make_app: Callable[..., DispatchApp]
) -> None:
    """At 80×24 the queue showed only priority/ref/skill: now customer, wait and skill give way first."""
    from dispatch_tui.tui.widgets.requests_pane import RequestsPane
    from dispatch_tui.tui.wording import window_label

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        pane = app.board_screen.query_one(RequestsPane)
        assert pane.render_line(0).text.split() == ["P", "ref", "window", "due"]
        visible = min(len(pane.rows), pane.scrollable_content_region.height - 1)
        assert visible >= 5
        for y, row in enumerate(pane.rows[:visible], start=1):
            line = pane.render_line(y).text
            window = window_label(row.window_start, row.window_end, pane.day, pane.zone)
            assert row.ref in line and window in line, line
            due = line.split(window)[1].split(row.status)[0].strip()  # what follows the window, before a status
            span = r"(\d+d)?(\d+h)?(\d+m|\d\d)?"
            assert due and re.fullmatch(rf"(in )?{span}|{span} overdue|over", due), line


async def test_a_short_terminal_gets_one_alert_notice_and_the_count(
    demo: Engine, make_app: Callable[..., DispatchApp]
) -> None:
    """At 80×24 three alert notices and the count covered the whole grid: one notice and the count remain."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        short = [n.message for n in app._notifications]
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        tall = [n.message for n in app._notifications]
    assert len(tall) == 4 and tall[-1].startswith("and "), tall  # three alerts, and how many more
    assert len(short) == 2 and short[0] == tall[0] and short[1].startswith("and "), short
