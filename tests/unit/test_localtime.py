"""Local time in, UTC stored, local time out.

The dated tests here test facts of the calendar (summer and winter offsets, the DST changes of 2026), so
they keep their fixed dates and set the clock near them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch_tui.localtime import (
    local_at,
    local_day_bounds,
    local_iso,
    local_period_bounds,
    parse_clock,
    parse_datetime,
)

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.clock("2026-06-30T12:00+02:00")  # summer time: Paris is UTC+2
def test_naive_is_local_and_an_offset_wins() -> None:
    assert parse_datetime("2026-07-01T09:00", PARIS) == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert parse_datetime("2026-07-01T09:00-04:00", PARIS) == datetime(2026, 7, 1, 13, 0, tzinfo=UTC)
    assert parse_datetime("2026-07-01T09:00Z", PARIS) == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


@pytest.mark.clock("2026-03-28T12:00+01:00")  # the eve of the spring change (and the autumn one, 25 Oct)
def test_times_that_dst_skips_or_repeats_are_refused() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        parse_datetime("2026-03-29T02:30", PARIS)
    with pytest.raises(ValueError, match="ambiguous"):
        parse_datetime("2026-10-25T02:30", PARIS)
    assert parse_datetime("2026-10-25T02:30+01:00", PARIS) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


@pytest.mark.clock("2026-03-28T12:00+01:00")  # the eve of the spring change (and the autumn one, 25 Oct)
def test_a_dst_day_is_23_or_25_hours() -> None:
    start, end = local_day_bounds(date(2026, 3, 29), PARIS)
    assert (end - start).total_seconds() == 23 * 3600
    start, end = local_day_bounds(date(2026, 10, 25), PARIS)
    assert (end - start).total_seconds() == 25 * 3600


@pytest.mark.clock("2026-11-30T12:00+01:00")  # winter time: Paris is UTC+1
def test_output_is_local_with_offset() -> None:
    assert local_iso(datetime(2026, 12, 1, 8, 0, tzinfo=UTC), PARIS) == "2026-12-01T09:00+01:00"


@pytest.mark.parametrize("text", ["7:5", "25:00", "12:60", "noon", "24:01"])
def test_bad_clock_times(text: str) -> None:
    with pytest.raises(ValueError):
        parse_clock(text)


def test_clock_times() -> None:
    assert parse_clock("07:30") == 450
    assert parse_clock("24:00") == 1440


@pytest.mark.clock("2026-10-24T12:00+02:00")  # the eve of the autumn change
def test_a_period_and_a_shift_ending_at_midnight_follow_the_local_clock_across_dst() -> None:
    paris = PARIS  # summer time ends on Sun 25 Oct 2026: that day has 25 hours
    start, end = local_period_bounds(date(2026, 10, 24), date(2026, 10, 25), paris)
    assert (start, end) == (datetime(2026, 10, 23, 22, tzinfo=UTC), datetime(2026, 10, 25, 23, tzinfo=UTC))
    assert local_at(date(2026, 10, 25), 24 * 60, paris) == datetime(2026, 10, 25, 23, tzinfo=UTC)  # Mon 00:00
