"""Reading the days that users type: ISO dates and a few words cron jobs use."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cli import exit_codes
from cli.output import fail

_WORDS = {"today": 0, "tomorrow": 1, "yesterday": -1}


def parse_day(text: str, zone: ZoneInfo, option: str = "--date") -> date:
    word = text.strip().lower()
    if word in _WORDS:
        return datetime.now(zone).date() + timedelta(days=_WORDS[word])
    try:
        return date.fromisoformat(word)
    except ValueError:
        fail(f"{option} {text!r}: give YYYY-MM-DD, today, tomorrow or yesterday", exit_codes.USAGE)
