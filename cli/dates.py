"""Reading the days that users type: ISO dates and a few words cron jobs and walkthroughs use."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from cli import exit_codes
from cli.output import fail
from dispatch_tui import clock

_WORDS = {"today": 0, "tomorrow": 1, "yesterday": -1}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_HELP = "YYYY-MM-DD, today, tomorrow, yesterday, or a weekday name (the next one: monday … sunday)"


def parse_day(text: str, zone: ZoneInfo, option: str = "--date") -> date:
    """A day as typed; the words count from today on the clock (``--now`` when it is set)."""
    word = text.strip().lower()
    if word in _WORDS:
        return clock.current().today(zone) + timedelta(days=_WORDS[word])
    if word in _WEEKDAYS:  # the next one, 1 to 7 days ahead: "monday" on a Monday is next week's
        today = clock.current().today(zone)
        return today + timedelta(days=(_WEEKDAYS.index(word) - today.weekday()) % 7 or 7)
    try:
        return date.fromisoformat(word)
    except ValueError:
        fail(f"{option} {text!r}: give {DAY_HELP}", exit_codes.USAGE)
