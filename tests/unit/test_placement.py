"""A drop between two planned visits puts the job between them, and the drives around it follow."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from dispatch_tui.localtime import local_at
from dispatch_tui.services.intake.demo import build_demo
from dispatch_tui.services.intake.demo_data import DemoSpec
from dispatch_tui.services.planning.candidates import rank_candidates
from dispatch_tui.services.planning.placement import place
from dispatch_tui.store.models import Appointment, Job, Site, Technician
from dispatch_tui.travel.haversine import travel_minutes
from tests.clock import DAY, ZONE


def travel(a: tuple[float, float], b: tuple[float, float]) -> int:
    return travel_minutes(a[0], a[1], b[0], b[1])


def day_of(session: Session, tech_ref: str) -> list[tuple[str, int]]:
    """(job ref, drive before it) of the technician's visits, in time order."""
    rows = session.exec(
        select(Job.ref, Appointment.travel_minutes)
        .join(Appointment, col(Appointment.job_id) == col(Job.id))
        .join(Technician, col(Technician.id) == col(Appointment.technician_id))
        .where(Technician.ref == tech_ref)
        .order_by(col(Appointment.start))
    ).all()
    return [(ref, drive) for ref, drive in rows]


def site_of(session: Session, job_ref: str) -> tuple[float, float]:
    lat, lon = session.exec(
        select(Site.lat, Site.lon).join(Job, col(Job.site_id) == col(Site.id)).where(Job.ref == job_ref)
    ).one()
    return lat, lon


def test_a_drop_between_two_visits_resequences_the_day(engine: Engine) -> None:
    build_demo(engine, DemoSpec(day=DAY), ZONE, now=local_at(DAY, 7 * 60, ZONE))  # early: the day is open
    with Session(engine) as session:
        waiting = session.exec(select(Job.ref).where(Job.status == "new").order_by(col(Job.ref))).all()
        for ref in waiting:  # a request some technician can fit between two of their visits
            for option in rank_candidates(session, ref, zone=ZONE, travel=travel):
                before = day_of(session, option.technician_ref)
                starts = session.exec(
                    select(Appointment.start)
                    .join(Technician, col(Technician.id) == col(Appointment.technician_id))
                    .where(Technician.ref == option.technician_ref)
                    .order_by(col(Appointment.start))
                ).all()
                slot = sum(1 for s in starts if s < option.start)
                if 0 < slot < len(starts):
                    break
            else:
                continue
            break
        else:
            raise AssertionError("the demo offers no request that fits between two visits")
        minute = int((option.start - local_at(DAY, 0, ZONE)).total_seconds() // 60)
        place(session, ref, option.technician_ref, DAY, minute, zone=ZONE, travel=travel, actor="test")
        session.commit()
        after = day_of(session, option.technician_ref)
        follower = before[slot][0]
        leg = travel(site_of(session, ref), site_of(session, follower))
    assert [job for job, _ in after] == [job for job, _ in before[:slot]] + [ref] + [j for j, _ in before[slot:]]
    assert dict(after)[follower] == leg, "the drive into the next visit now starts at the dropped job"
