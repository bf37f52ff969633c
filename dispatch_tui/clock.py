"""The one clock: every "now" in the product is read here.

By default it is the real time. It can be set (setting ``now``, ``DISPATCH_NOW``, ``dispatch --now``) to
replay or demonstrate a given moment: a set clock reads that moment when it is set and runs on from
there at real speed, or stands still if it is frozen (``now_frozen``), which makes a script's output
repeatable. The store's timestamps, the services' defaults, the CLI's ``today`` and the console all read
the process's current clock (``now()``); the CLI and the console install it from the settings.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch_tui.localtime import parse_datetime

_CLOCK_TIME = re.compile(r"^\d{1,2}:\d{2}$")
_MOMENT_FORMS = "give an ISO 8601 moment (YYYY-MM-DDTHH:MM, local time, or with an offset) or HH:MM today"


@dataclass(frozen=True)
class Clock:
    """What time it is: the real time (``set_to`` None), or a set moment running on from when it was set."""

    set_to: datetime | None = None  # aware
    frozen: bool = False
    _set_at: float = field(default_factory=time.monotonic, compare=False, repr=False)

    @classmethod
    def real(cls) -> Clock:
        return cls()

    @classmethod
    def at(cls, moment: datetime, *, frozen: bool = False) -> Clock:
        if moment.tzinfo is None:
            raise ValueError("a clock is set to an aware moment (with its zone or offset)")
        return cls(moment.astimezone(UTC), frozen)

    def now(self) -> datetime:
        """The current moment, aware, in UTC."""
        if self.set_to is None:
            return datetime.now(UTC)
        if self.frozen:
            return self.set_to
        return self.set_to + timedelta(seconds=time.monotonic() - self._set_at)

    def today(self, zone: ZoneInfo) -> date:
        return self.now().astimezone(zone).date()

    def describe(self, zone: ZoneInfo) -> str:
        """How the console says that it does not run on the real time (empty when it does): the set
        clock's current reading, to the minute."""
        if self.set_to is None:
            return ""
        reading = self.now().astimezone(zone).strftime("%a %d %b %H:%M")
        return f"clock set: {reading}" + (" (frozen)" if self.frozen else "")


def on_day(text: str, day: date) -> str:
    """A clock time typed alone (``HH:MM``) as that time on ``day``, in ISO 8601; any other text as it is."""
    text = text.strip()
    return f"{day.isoformat()}T{text:0>5}" if _CLOCK_TIME.match(text) else text


def parse_moment(text: str, zone: ZoneInfo) -> datetime:
    """What users give ``--now``: ISO 8601 (naive: local time in ``zone``), or HH:MM today (real date, local)."""
    text = on_day(text, datetime.now(UTC).astimezone(zone).date())  # the one reading of the real date
    try:
        return parse_datetime(text, zone)
    except ValueError as exc:
        reason = str(exc) if "offset" in str(exc) else _MOMENT_FORMS
        raise ValueError(f"{text!r}: {reason}") from None


_current = Clock()


def current() -> Clock:
    """The process's clock."""
    return _current


def use(clock: Clock) -> None:
    """Install ``clock`` as the process's clock (the CLI does, from the settings; tests do, to fix it)."""
    global _current
    _current = clock


def now() -> datetime:
    """The process's current moment, aware, in UTC: what every default "now" in the product is."""
    return _current.now()
