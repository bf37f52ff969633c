"""The console's colours, taken from the app's theme so that they read on light and dark terminals alike.

Statuses are blocks of a theme colour (primary, secondary, warning, success, error; greys between the
theme's foreground and background) with the text colour that contrasts with them; coloured words
(a technician's status, how urgent a request is, the drive before a visit) use the theme's ``text-*``
colours, which Textual already adjusts for contrast with the background. A theme that leaves colours
to the terminal (ANSI) gets the terminal's own named colours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.style import Style
from textual.color import Color

if TYPE_CHECKING:
    from textual.app import App
    from textual.theme import Theme


@dataclass(frozen=True)
class Palette:
    background: Color  # what the panes are drawn on (the theme's background)
    job_status: dict[str, Style]  # a visit's block, a job's status badge
    tech_status: dict[str, Style]
    urgency: dict[str, Style]  # "overdue", "soon"
    alert: Style  # the "!" marker
    shift: Style  # the working hours' dots on the grid
    absent: Style
    break_: Style
    drive: Style
    now: Style


def palette(app: App[object]) -> Palette:
    """The palette of the app's current theme (built once per theme)."""
    theme = app.current_theme
    cached = _CACHE.get(theme.name)
    if cached is None or cached[0] is not theme:
        cached = _CACHE[theme.name] = (theme, build_palette(theme))
    return cached[1]


_CACHE: dict[str, tuple[Theme, Palette]] = {}


def build_palette(theme: Theme) -> Palette:
    colors = theme.to_color_system().generate()
    parsed = {name: Color.parse(colors[name]) for name in _NAMES}
    if any(color.ansi is not None for color in parsed.values()):
        return _ansi_palette(parsed["background"])
    background, foreground = parsed["background"], parsed["foreground"]

    def grey(share: float) -> Color:
        """``share`` of the way from the background to the foreground."""
        return background.blend(foreground, share, alpha=1)

    def block(color: Color) -> Style:
        return Style(color=color.get_contrast_text(1.0).rich_color, bgcolor=color.rich_color)

    def text(name: str, *, bold: bool = False) -> Style:
        return Style(color=parsed[name].rich_color, bold=bold)

    shade = grey(0.18).rich_color
    return Palette(
        background=background,
        job_status={
            "new": Style(),
            "scheduled": block(parsed["primary"]),
            "dispatched": block(parsed["secondary"]),
            "en_route": block(parsed["warning"]),
            "on_site": block(parsed["success"]),
            "completed": block(grey(0.55)),
            "needs_follow_up": block(parsed["error"]),
            "on_hold": block(grey(0.35)),
            "cancelled": block(grey(0.75)),
        },
        tech_status={
            "on_shift": text("text-success"),
            "en_route": text("text-warning"),
            "on_site": text("text-success", bold=True),
            "on_break": text("text-primary"),
            "off_shift": Style(dim=True),
            "absent": text("text-error"),
            "inactive": Style(dim=True),
        },
        urgency={"overdue": text("text-error", bold=True), "soon": text("text-warning", bold=True)},
        alert=text("text-error", bold=True),
        shift=Style(color=grey(0.5).rich_color),
        absent=Style(color=parsed["text-error"].rich_color, bgcolor=shade),
        break_=Style(color=parsed["text-primary"].rich_color, bgcolor=shade),
        drive=text("text-warning"),
        now=text("text-error", bold=True),
    )


_NAMES = ("background", "foreground", "primary", "secondary", "warning", "success", "error", "text-primary",
          "text-warning", "text-success", "text-error")  # fmt: skip


def _ansi_palette(background: Color) -> Palette:
    """The terminal's named colours, for themes that leave the colours to the terminal."""
    return Palette(
        background=background,
        job_status={
            "new": Style(),
            "scheduled": Style.parse("bright_white on blue"),
            "dispatched": Style.parse("black on cyan"),
            "en_route": Style.parse("black on yellow"),
            "on_site": Style.parse("black on green"),
            "completed": Style.parse("reverse dim"),
            "needs_follow_up": Style.parse("black on magenta"),
            "on_hold": Style.parse("reverse"),
            "cancelled": Style.parse("dim strike"),
        },
        tech_status={
            "on_shift": Style.parse("green"),
            "en_route": Style.parse("magenta"),
            "on_site": Style.parse("bold green"),
            "on_break": Style.parse("blue"),
            "off_shift": Style(dim=True),
            "absent": Style.parse("red"),
            "inactive": Style(dim=True),
        },
        urgency={"overdue": Style.parse("bold red"), "soon": Style.parse("bold magenta")},
        alert=Style.parse("bold red"),
        shift=Style(dim=True),
        absent=Style.parse("red reverse"),
        break_=Style.parse("blue reverse"),
        drive=Style.parse("magenta"),
        now=Style.parse("bold red"),
    )
