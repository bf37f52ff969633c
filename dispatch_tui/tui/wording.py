"""How the console words times and statuses (shared by the panes; colours are in ``palette``)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def duration(minutes: int) -> str:
    """'45m', '2h05', '3d4h'; negative durations keep their sign ('-20m': past due by 20 minutes)."""
    sign = "-" if minutes < 0 else ""
    minutes = abs(minutes)
    if minutes < 60:
        return f"{sign}{minutes}m"
    if minutes < 24 * 60:
        return f"{sign}{minutes // 60}h{minutes % 60:02d}"
    return f"{sign}{minutes // 1440}d{minutes % 1440 // 60}h"


def due_label(minutes: int) -> str:
    """'in 3h30', or '22h49 overdue' once the due time has passed (never 'due in -22h49')."""
    return f"{duration(-minutes)} overdue" if minutes < 0 else f"in {duration(minutes)}"


def window_label(start: datetime, end: datetime, day: date | None, zone: ZoneInfo) -> str:
    """'08:30-10:30' on the board's ``day``; with its date otherwise ('Mon 30 08:30-10:30'), and on each
    end when the window spans days ('Mon 30 08:30-Tue 01 10:30')."""
    start, end = start.astimezone(zone), end.astimezone(zone)
    first = f"{start:%H:%M}" if start.date() == day else f"{start:%a %d %H:%M}"
    if end.date() == start.date():
        return f"{first}-{end:%H:%M}"
    return f"{first}-{end:%a %d %H:%M}"


def status_label(status: str) -> str:
    return status.replace("_", " ")
