"""An independent feasibility checker for a store's plan, written from the rules (the README's planning rules and
docs/) with its own travel formula: it shares no code with dispatch_tui.services.planning.scheduling,
so that plans from the services and from the optimizer are judged by something other than themselves.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text


def drive(a: tuple[float, float], b: tuple[float, float]) -> int:
    if a == b:
        return 0
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    km = 2 * 6371.0 * math.asin(math.sqrt(h))
    return math.ceil(round(km * 1.3 / 40 * 60, 6))


def usable(lo: datetime, hi: datetime, absences: list[tuple[datetime, datetime]]) -> float:
    """Minutes in [lo, hi] outside absences."""
    total = (hi - lo).total_seconds() / 60
    for a0, a1 in absences:
        total -= max(0.0, (min(hi, a1) - max(lo, a0)).total_seconds() / 60)
    return total


def check_store(engine: Engine, day: date, zone: ZoneInfo) -> list[str]:
    problems = []
    with engine.connect() as c:
        techs = c.execute(text("SELECT id, name, home_lat, home_lon FROM technician")).all()
        for tech_id, name, hlat, hlon in techs:
            home = (hlat, hlon)
            skills = {r[0] for r in c.execute(text(
                "SELECT s.name FROM technicianskill ts JOIN skill s ON s.id = ts.skill_id WHERE ts.technician_id = :t"
            ), {"t": tech_id})}  # fmt: skip
            shift = c.execute(text(
                "SELECT start_minute, end_minute, break_start_minute, break_minutes FROM shiftpattern "
                "WHERE technician_id = :t AND weekday = :w"), {"t": tech_id, "w": day.weekday()}).first()  # fmt: skip
            absences = [(utc(a), utc(b)) for a, b in c.execute(
                text('SELECT start, "end" FROM absence WHERE technician_id = :t'), {"t": tech_id})]  # fmt: skip
            visits = [
                (ref, utc(s), utc(e), utc(ws), utc(we), skill, (lat, lon))
                for ref, s, e, ws, we, skill, lat, lon in c.execute(text(
                    'SELECT j.ref, a.start, a."end", j.window_start, j.window_end, k.name, si.lat, si.lon '
                    "FROM appointment a JOIN job j ON j.id = a.job_id JOIN skill k ON k.id = j.skill_id "
                    "JOIN site si ON si.id = j.site_id WHERE a.technician_id = :t ORDER BY a.start"), {"t": tech_id})
            ]  # fmt: skip
            if not visits:
                continue
            if shift is None:
                problems.append(f"{name} works on a day off")
                continue

            def clock(minute: int) -> datetime:
                return datetime.combine(day, datetime.min.time(), zone) + timedelta(minutes=minute)

            s0, s1 = clock(shift[0]), clock(shift[1])
            for ref, s, e, ws, we, skill, _ in visits:
                if skill not in skills:
                    problems.append(f"{name} lacks {skill} for {ref}")
                if not ws <= s <= we:
                    problems.append(f"{ref} starts outside its window")
                if any(s < a1 and e > a0 for a0, a1 in absences):
                    problems.append(f"{ref} during {name}'s absence")
            # legs, with the drive fitting in the time outside absences
            legs = [(s0, home)] + [(e, p) for _, _, e, _, _, _, p in visits]
            arrivals = [(s, p) for _, s, _, _, _, _, p in visits] + [(s1, home)]
            gaps = []
            for (free_from, here), (due, there) in zip(legs, arrivals, strict=True):
                need = drive(here, there)
                room = usable(free_from, due, absences) if due >= free_from else -1
                gaps.append((free_from, due, need))
                if room < need:
                    problems.append(f"{name}: cannot drive {need} min between {free_from:%H:%M} and {due:%H:%M}")
            if shift[3] and shift[2] is not None:
                b0, length = clock(shift[2]), timedelta(minutes=shift[3])
                latest = b0 + timedelta(minutes=90)
                covered = any(a1 - a0 >= length and a0 <= latest and a1 >= b0 for a0, a1 in absences)
                fits = any(
                    usable(g0, g1, absences) - shift[3] >= need
                    and max(g0, b0) + length <= g1
                    and max(g0, b0) <= latest
                    and not any(max(g0, b0) < a1 and max(g0, b0) + length > a0 for a0, a1 in absences)
                    for g0, g1, need in gaps
                )
                if not (covered or fits):
                    problems.append(f"{name} gets no break")
    return problems


def utc(value: str | datetime) -> datetime:
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC)
