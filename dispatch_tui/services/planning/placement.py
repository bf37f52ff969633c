"""Placing a job where the dispatcher pointed: a technician's row at a time, as on the board's grid.

A pointer lands on a cell of some minutes, not on an exact minute: the first start in that cell the
rules accept wins (assign for a waiting job, move for a planned one). When none does, the reasons
for the cell's first minute are what the dispatcher sees, and nothing is written.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session

from dispatch_tui.localtime import local_at
from dispatch_tui.services.errors import Refused
from dispatch_tui.services.planning.assignment import Change, appointment_of, assign, job_at_version, move
from dispatch_tui.services.planning.scheduling import Travel

STEP_MINUTES = 5


def place(
    session: Session,
    job_ref: str,
    tech_ref: str,
    day: date,
    minute: int,
    *,
    span: int = STEP_MINUTES,
    zone: ZoneInfo,
    travel: Travel,
    actor: str,
) -> Change:
    """Assign or move ``job_ref`` to ``tech_ref`` at the first feasible start in [minute, minute + span)."""
    planned = appointment_of(session, job_at_version(session, job_ref, None)) is not None
    first: Refused | None = None
    for offset in range(0, max(span, 1), STEP_MINUTES):
        start = local_at(day, minute + offset, zone)
        try:
            if planned:
                return move(session, job_ref, start, tech_ref=tech_ref, zone=zone, travel=travel, actor=actor)
            return assign(session, job_ref, tech_ref, start, zone=zone, travel=travel, actor=actor)
        except Refused as refused:
            first = first or refused
    assert first is not None
    raise first
