"""Time as users give and read it: local, in the configured zone; stored as UTC.

Imports accept ISO 8601 with an offset; a value without one is local time in the configured zone.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

_CLOCK = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


def parse_clock(text: str) -> int:
    """'HH:MM' → minutes after midnight (24:00 allowed, as the end of a day)."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time of day as HH:MM")
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    if minutes > 24 * 60:
        raise ValueError(f"{text!r} is past the end of the day")
    return minutes


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@lru_cache(maxsize=8192)  # promised windows repeat (on the half hour): big imports parse few distinct texts
def parse_datetime(text: str, zone: ZoneInfo) -> datetime:
    """ISO 8601 → aware UTC datetime. A naive value is read as local time in ``zone``.

    A local time that does not exist (skipped by a DST change) or is ambiguous is refused: a promised
    window must not silently shift by an hour.
    """
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = _localize(value, zone)
    return value.astimezone(UTC)


def _localize(naive: datetime, zone: ZoneInfo) -> datetime:
    early = naive.replace(tzinfo=zone, fold=0)
    late = naive.replace(tzinfo=zone, fold=1)
    if early.utcoffset() != late.utcoffset():
        round_trip = early.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        if round_trip != naive:
            raise ValueError(f"{naive.isoformat()} does not exist in {zone.key} (clocks skip it); give an offset")
        raise ValueError(f"{naive.isoformat()} is ambiguous in {zone.key} (clocks repeat it); give an offset")
    return early


def to_local(value: datetime, zone: ZoneInfo) -> datetime:
    return value.astimezone(zone)


def local_iso(value: datetime | None, zone: ZoneInfo) -> str | None:
    """ISO 8601 with the local offset, to the minute when seconds are zero: what scripts read."""
    if value is None:
        return None
    local = value.astimezone(zone)
    return local.isoformat(timespec="minutes" if local.second == 0 and local.microsecond == 0 else "seconds")


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants at which a local calendar day starts and ends (23 or 25 hours on DST days)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_period_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[the start of local day ``first``, the end of local day ``last``), as UTC instants."""
    return local_day_bounds(first, zone)[0], local_day_bounds(last, zone)[1]


def local_moment(value: datetime, zone: ZoneInfo) -> str:
    """An instant as people read it in messages: 'Tue 03 Nov 09:30', local time."""
    return value.astimezone(zone).strftime("%a %d %b %H:%M")


def local_at(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local clock time (minutes after midnight) on a day."""
    naive = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute)
    return naive.replace(tzinfo=zone).astimezone(UTC)
