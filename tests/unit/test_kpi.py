"""KPIs and time sheets on a hand-made week in the past (Monday to Sunday of ``PAST_DAY``'s week, Europe/Paris)
whose every figure is worked out by hand below, from the events written here with explicit times: each is
given as a weekday and a local clock time ("Tue 13:40"), so the figures do not depend on the dates. Nothing
happens at the weekend, so a daylight-saving change on the week's Sunday changes none of them."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from dispatch_tui.localtime import local_at
from dispatch_tui.services.billing.timesheets import timesheets
from dispatch_tui.services.reports.kpi import kpis, p90
from dispatch_tui.store.models import (
    Appointment,
    Customer,
    Feedback,
    FollowUp,
    Job,
    JobEvent,
    ShiftPattern,
    Site,
    Skill,
    Technician,
)
from tests.clock import PAST_DAY, ZONE
from tests.rows import id_of
from tests.unit.test_billing import dispatch

MONDAY = PAST_DAY - timedelta(days=1)  # the week: this Monday to the Sunday after
SUNDAY = MONDAY + timedelta(days=6)
DAYS = {"Mon": 0, "Tue": 1, "Wed": 2, "Thu": 3, "Fri": 4, "Sat": 5, "Sun": 6}


def day(name: str) -> date:
    """'Tue' → that day of the week."""
    return MONDAY + timedelta(days=DAYS[name])


def t(when: str) -> datetime:
    """'Tue 13:40' → that local moment of the week."""
    name, clock = when.split()
    hours, minutes = clock.split(":")
    return local_at(day(name), int(hours) * 60 + int(minutes), ZONE)


# ref: technician, source, created, window, due_by, [(status, at)...]
WEEK = {
    "J1": ("T1", "phone", "Mon 07:00", ("Mon 08:00", "Mon 10:00"), "Mon 12:00",
           [("scheduled", "Mon 07:30"), ("dispatched", "Mon 08:00"), ("en_route", "Mon 08:00"),
            ("on_site", "Mon 08:30"), ("completed", "Mon 09:30")]),
    "J2": ("T1", "web", "Mon 09:00", ("Tue 08:00", "Tue 08:30"), None,
           [("scheduled", "Mon 11:00"), ("dispatched", "Tue 08:00"), ("en_route", "Tue 08:00"),
            ("on_site", "Tue 08:45"), ("needs_follow_up", "Tue 10:15")]),
    "J2-F1": ("T1", "technician", "Tue 10:15", ("Tue 10:15", "Fri 10:15"), None,
              [("scheduled", "Tue 12:00"), ("dispatched", "Wed 09:00"), ("en_route", "Wed 09:00"),
               ("on_site", "Wed 09:20"), ("completed", "Wed 10:20")]),
    "J3": ("T2", "phone", "Tue 07:00", ("Tue 13:00", "Tue 15:00"), "Tue 15:00",
           [("scheduled", "Tue 07:10"), ("dispatched", "Tue 13:00"), ("en_route", "Tue 13:00"),
            ("on_site", "Tue 13:40"), ("completed", "Tue 15:40")]),
    "J4": ("T2", "email", "Wed 08:00", ("Thu 15:00", "Thu 17:30"), None,
           [("scheduled", "Wed 08:30"), ("dispatched", "Thu 16:30"), ("en_route", "Thu 16:30"),
            ("on_site", "Thu 17:00"), ("completed", "Thu 17:30")]),
    "J5": (None, "phone", "Thu 10:00", ("Fri 08:00", "Fri 12:00"), "Fri 12:00", []),
    "J6": (None, "back_office", "Fri 09:00", ("Fri 13:00", "Fri 15:00"), "Fri 11:00", [("cancelled", "Fri 10:00")]),
}  # fmt: skip
RATINGS = {"J1": 5, "J2": 2, "J4": 4}


@pytest.fixture
def week(engine: Engine) -> Engine:
    with Session(engine) as s:
        skill, customer = Skill(name="boiler"), Customer(ref="C1", name="Acme")
        techs = {ref: Technician(ref=ref, name=name, home_lat=48.85, home_lon=2.35)
                 for ref, name in (("T1", "Ann"), ("T2", "Bob"))}  # fmt: skip
        s.add_all([skill, customer, *techs.values()])
        s.flush()
        site = Site(customer_id=id_of(customer), lat=48.86, lon=2.36, is_primary=True)
        s.add(site)
        s.add_all(ShiftPattern(technician_id=id_of(tech), weekday=day, start_minute=8 * 60, end_minute=17 * 60,
                               break_start_minute=12 * 60, break_minutes=30)
                  for tech in techs.values() for day in range(5))  # fmt: skip
        s.flush()
        jobs = {}
        for ref, (tech, source, created, window, due, steps) in WEEK.items():
            job = Job(ref=ref, customer_id=id_of(customer), site_id=id_of(site), skill_id=id_of(skill), duration_min=60,
                      priority=3, window_start=t(window[0]), window_end=t(window[1]),
                      due_by=t(due) if due else None, source=source, status=steps[-1][0] if steps else "new",
                      created_at=t(created))  # fmt: skip
            s.add(job)
            s.flush()
            jobs[ref] = job
            previous = None
            for status, when in [("new", created), *steps]:
                s.add(JobEvent(job_id=id_of(job), actor="test", at=t(when), from_status=previous, to_status=status))
                previous = status
            if tech:
                arrive = dict(steps)["on_site"]
                s.add(Appointment(job_id=id_of(job), technician_id=id_of(techs[tech]), start=t(arrive),
                                  end=t(arrive) + timedelta(hours=1)))  # fmt: skip
        s.add(FollowUp(job_id=id_of(jobs["J2-F1"]), of_job_id=id_of(jobs["J2"])))
        s.add_all(Feedback(job_id=id_of(jobs[ref]), rating=rating, actor="test", at=t("Fri 12:00"))
                  for ref, rating in RATINGS.items())  # fmt: skip
        s.commit()
    return engine


def test_p90_is_the_nearest_rank() -> None:
    assert p90([5, 1, 4, 2, 3]) == 5  # ⌈4.5⌉ = 5th
    assert p90(list(range(1, 11))) == 9  # ⌈9⌉ = 9th
    assert p90([]) is None


def test_the_weeks_kpis_are_the_hand_worked_figures(week: Engine) -> None:
    with Session(week) as session:
        report = kpis(session, MONDAY, SUNDAY, zone=ZONE, now=t("Fri 18:00"))
    assert report["requests_received"] == {
        "total": 7, "by_source": {"back_office": 1, "email": 1, "phone": 3, "technician": 1, "web": 1},
    }  # fmt: skip
    # to scheduled: J1 30, J2 120, J2-F1 105, J3 10, J4 30 → [10, 30, 30, 105, 120]
    # to on site: J1 90, J2 1425 (Mon 09:00 → Tue 08:45), J2-F1 1385, J3 400, J4 1980 (Wed 08:00 → Thu 17:00)
    assert report["waiting_minutes"] == {
        "to_scheduled": {"count": 5, "median": 30, "p90": 120},
        "to_on_site": {"count": 5, "median": 1385, "p90": 1980},
    }
    # J3 completed 15:40 after due 15:00; J5 never done; J6 cancelled does not count; J1 done in time
    assert report["sla_breaches"] == {"count": 2, "jobs": ["J3", "J5"]}
    # arrivals: J2 late (08:45 > 08:30), the other 4 on time; first visits J1, J2 (follow-up), J3, J4
    # shift 2 × 5 × 540 = 5400; travel 30 + 45 + 20 + 40 + 30 = 165; work 60 + 90 + 60 + 120 + 30 = 360
    assert report["overall"] == {
        "visits_finished": 5, "arrivals": 5, "on_time_pct": 80.0, "first_time_fix_pct": 75.0,
        "shift_minutes": 5400, "work_minutes": 360, "travel_minutes": 165,
        "utilization": 0.067, "travel_share": 0.314,  # 360 / 5400; 165 / 525
        "ratings": 3, "average_rating": 3.67,  # (5 + 2 + 4) / 3
    }  # fmt: skip
    ann, bob = report["technicians"]
    assert ann == {
        "technician_ref": "T1", "name": "Ann", "visits_finished": 3, "arrivals": 3, "on_time_pct": 66.7,
        "first_time_fix_pct": 50.0, "shift_minutes": 2700, "work_minutes": 210, "travel_minutes": 95,
        "utilization": 0.078, "travel_share": 0.311, "ratings": 2, "average_rating": 3.5,
    }  # fmt: skip
    assert (bob["on_time_pct"], bob["first_time_fix_pct"], bob["utilization"], bob["travel_share"],
            bob["average_rating"]) == (100.0, 100.0, 0.056, 0.318, 4.0)  # fmt: skip
    daily = {d["day"]: (d["requests_received"], d["visits_finished"], d["on_time_pct"]) for d in report["daily"]}
    assert daily == {f"{day(name)}": figures for name, figures in (
        ("Mon", (2, 1, 100.0)), ("Tue", (2, 2, 50.0)), ("Wed", (1, 1, 100.0)), ("Thu", (1, 1, 100.0)),
        ("Fri", (1, 0, None)), ("Sat", (0, 0, None)), ("Sun", (0, 0, None)))}  # fmt: skip


def test_time_sheets_split_travel_work_idle_and_overtime(week: Engine) -> None:
    with Session(week) as session:
        sheets = {(s.technician_ref, s.day): s for s in timesheets(session, MONDAY, SUNDAY, zone=ZONE)}
    assert len(sheets) == 10  # two technicians × five shift days; nothing recorded at the weekend
    monday = sheets[("T1", day("Mon"))]
    assert (monday.shift, monday.travel, monday.work, monday.break_minutes, monday.idle, monday.overtime) == (
        540, 30, 60, 30, 420, 0,
    )  # fmt: skip
    thursday = sheets[("T2", day("Thu"))]  # left 16:30, arrived 17:00 (shift end), done 17:30: half inside, half after
    assert (thursday.travel, thursday.work, thursday.idle, thursday.overtime) == (30, 30, 480, 30)
    friday = sheets[("T2", day("Fri"))]
    assert (friday.travel, friday.work, friday.idle, friday.overtime) == (0, 0, 510, 0)


def test_kpi_and_timesheet_commands(week: Engine, db_path: Path) -> None:
    period = ("--from", f"{MONDAY}", "--to", f"{SUNDAY}")
    code, out, err = dispatch(db_path, "report", "kpi", *period, "--json")
    assert code == 0, err
    assert json.loads(out)["overall"]["first_time_fix_pct"] == 75.0
    code, out, _ = dispatch(db_path, "report", "kpi", *period)
    assert code == 0
    assert "requests received: 7 (back_office 1, email 1, phone 3, technician 1, web 1)" in out
    assert "SLA breaches: 2: J3, J5" in out
    assert "┌" not in out  # charts only on a terminal
    code, out, _ = dispatch(db_path, "export", "timesheets", "--from", f"{day('Thu')}", "--to", f"{day('Thu')}",
                            "--format", "csv")  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["technician_ref"], r["travel"], r["work"], r["break"], r["idle"], r["overtime"]) for r in rows] == [
        ("T1", "0", "0", "30", "510", "0"), ("T2", "30", "30", "30", "480", "30"),
    ]  # fmt: skip


def test_an_absence_shortens_the_shift_and_work_outside_it_is_overtime(week: Engine) -> None:
    from dispatch_tui.store.models import Absence

    with Session(week) as session:
        session.add(Absence(technician_id=1, start=t("Mon 13:00"), end=t("Mon 18:00"), reason="dentist"))
        session.commit()
        sheets = {(s.technician_ref, s.day): s for s in timesheets(session, MONDAY, MONDAY, zone=ZONE)}
    monday = sheets[("T1", MONDAY)]
    # 08:00–17:00 less 13:00–17:00 away = 300; idle = 300 − 30 break − 30 travel − 60 work
    assert (monday.shift, monday.idle, monday.overtime) == (300, 180, 0)


def test_a_due_time_still_ahead_is_no_breach(week: Engine) -> None:
    """Issue 12, point 1: at Fri 09:08, J5 (due Fri 12:00, not done yet) is not a breach; J3 (due Tue 15:00,
    done 15:40) is. Once 12:00 has passed unmet, J5 is one."""
    with Session(week) as session:
        morning = kpis(session, MONDAY, SUNDAY, zone=ZONE, now=t("Fri 09:08"))
        noon = kpis(session, MONDAY, SUNDAY, zone=ZONE, now=t("Fri 12:00"))
    assert morning["sla_breaches"] == {"count": 1, "jobs": ["J3"]}
    assert noon["sla_breaches"] == {"count": 2, "jobs": ["J3", "J5"]}
