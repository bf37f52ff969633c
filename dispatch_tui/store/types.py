"""Column types shared by the tables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as naive UTC.

    SQLite keeps no offset, PostgreSQL would convert to the session zone: storing naive UTC and
    re-attaching UTC on the way out gives the same values on both.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing to store a naive datetime: {value!r}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text, e.g. from a textual query
            value = datetime.fromisoformat(value)
        moment: datetime = value.replace(tzinfo=UTC)
        return moment

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        return _sqlite_utc_datetime  # one step instead of two, as for binding below

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        # One step instead of two (this type, then SQLite's DATETIME): bulk imports bind hundreds of
        # thousands of these. The text is exactly SQLite DATETIME's storage format, so values written
        # either way compare and sort alike.
        return _sqlite_utc_text


@lru_cache(maxsize=8192)  # windows and import timestamps repeat a lot in bulk writes
def _sqlite_utc_datetime(value: str | None) -> datetime | None:
    # SQLite DATETIME text ('2026-12-01 08:00:00.000000') is ISO 8601: the C parser reads it directly.
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _sqlite_utc_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"refusing to store a naive datetime: {value!r}")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (  # noqa: UP031 - several times faster than strftime
        value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond,
    )  # fmt: skip
