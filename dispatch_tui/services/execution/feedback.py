"""Customer feedback: a rating of 1 to 5 (and a comment) on a finished visit, one per job.

A later rating replaces the earlier one; both stay in the job's audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from dispatch_tui.domain import FINISHED
from dispatch_tui.domain import JobStatus as S
from dispatch_tui.services.errors import Refused
from dispatch_tui.services.jobs import record_change
from dispatch_tui.services.planning.assignment import job_at_version
from dispatch_tui.store.models import Feedback, utcnow


@dataclass(frozen=True)
class Rated:
    job_ref: str
    rating: int
    comment: str
    replaced: int | None  # the rating it replaced, if any
    version: int


def record_feedback(
    session: Session,
    job_ref: str,
    rating: int,
    comment: str = "",
    *,
    actor: str,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Rated:
    job = job_at_version(session, job_ref, expected_version)
    problems = []
    if not 1 <= rating <= 5:
        problems.append(f"the rating must be 1 to 5, got {rating}")
    if job.status not in FINISHED:
        problems.append(f"{job.ref} is {job.status}: a visit is rated once it is {S.COMPLETED} or {S.NEEDS_FOLLOW_UP}")
    if problems:
        raise Refused(problems)
    at = at or utcnow()
    old = session.get(Feedback, job.id)
    replaced = old.rating if old is not None else None
    text = f"customer rating {rating}/5" + (f" (was {replaced}/5)" if replaced is not None else "")
    version = record_change(session, job, job.status, actor, text + (f": {comment}" if comment else ""), at)
    if old is None:
        session.add(Feedback(job_id=job.id or 0, rating=rating, comment=comment, actor=actor, at=at))
    else:
        old.rating, old.comment, old.actor, old.at = rating, comment, actor, at
        session.add(old)
    session.flush()
    return Rated(job.ref, rating, comment, replaced, version)
