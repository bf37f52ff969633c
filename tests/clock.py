"""The suite's clock, and the days its tests work on, relative to the real date.

Every test runs under a set, frozen clock (the autouse ``suite_clock`` fixture in ``tests/conftest.py``:
in process, and through ``DISPATCH_NOW`` for the commands a test starts). By default that clock reads
``NOW``, the evening before ``DAY``, so ``DAY`` is "tomorrow" and wholly ahead, and ``PAST_DAY`` is well
behind. ``DAY`` is the Tuesday of the coming week: never a daylight-saving change day in Europe/Paris, and a
working day for the default Monday-to-Friday week, whatever date the suite runs on (CI runs it on a clock
shifted a year ahead, too).

A test of a calendar fact (a DST change, a year end) keeps its fixed date and sets the clock near it with
``@pytest.mark.clock("2026-03-28T12:00+01:00")``; a test that needs another moment of its own days asks for
the ``set_clock`` fixture. Nothing else in the suite names a date.

Helpers build the strings the product reads and writes: ``naive(DAY, "09:30")`` is what an import file
or ``--start`` takes (local time), ``iso(DAY, "09:30")`` what ``--json`` prints (local, with its offset).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch_tui.localtime import local_at, local_iso, parse_clock

ZONE = ZoneInfo("Europe/Paris")  # not UTC, so that offsets are exercised

REAL_TODAY = datetime.now(ZONE).date()  # the suite's one reading of the real date
DAY = REAL_TODAY + timedelta(days=(1 - REAL_TODAY.weekday()) % 7 or 7)  # the next Tuesday, 1 to 7 days ahead
MONDAY = DAY - timedelta(days=1)
NOW = local_at(MONDAY, 18 * 60, ZONE)  # the suite's default "now": the evening before DAY
PAST_DAY = DAY - timedelta(days=28)  # a Tuesday four weeks back: a day to work, bill and report on


def at(day: date, clock: str) -> datetime:
    """The instant of local clock time ``clock`` (HH:MM) on ``day``, aware (UTC)."""
    return local_at(day, parse_clock(clock), ZONE)


def naive(day: date, clock: str) -> str:
    """Local time as an import file or a flag gives it: ``YYYY-MM-DDTHH:MM``."""
    return f"{day.isoformat()}T{clock}"


def iso(day: date, clock: str) -> str:
    """Local time as ``--json`` prints it: ``YYYY-MM-DDTHH:MM+01:00`` (the offset of that day and time)."""
    printed = local_iso(at(day, clock), ZONE)
    assert printed is not None
    return printed


def offset(day: date, clock: str = "12:00") -> str:
    """The zone's UTC offset at that local time, as ISO 8601 writes it (``+01:00`` in winter)."""
    return iso(day, clock)[-6:]
