"""How the console words times and statuses (shared by the panes; colours are in ``palette``)."""

from __future__ import annotations


def duration(minutes: int) -> str:
    """'45m', '2h05', '3d4h'; negative durations keep their sign ('-20m': past due by 20 minutes)."""
    sign = "-" if minutes < 0 else ""
    minutes = abs(minutes)
    if minutes < 60:
        return f"{sign}{minutes}m"
    if minutes < 24 * 60:
        return f"{sign}{minutes // 60}h{minutes % 60:02d}"
    return f"{sign}{minutes // 1440}d{minutes % 1440 // 60}h"


def status_label(status: str) -> str:
    return status.replace("_", " ")
