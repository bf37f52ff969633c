"""Upserting validated rows by ``ref``, inside the caller's transaction.

Each writer first resolves references (customer_ref, skill, technician_ref) and reports every one it
cannot resolve, before it writes anything; then it sorts rows into created / updated / unchanged by
comparing with what is stored, and writes with executemany statements (100,000 rows must import in
seconds, which per-object ORM flushes cannot do).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlmodel import Session

from dispatch_tui.domain import ANY_SKILL
from dispatch_tui.services.intake.imports.reading import RowError
from dispatch_tui.services.intake.imports.rows import (
    AbsenceRow,
    CustomerRow,
    PartRow,
    RateRow,
    RequestRow,
    TechnicianRow,
)
from dispatch_tui.services.jobs import DetailsChange, change_details, create_jobs
from dispatch_tui.store.models import (
    Absence,
    Customer,
    Job,
    Part,
    Rate,
    ShiftPattern,
    Site,
    Skill,
    Technician,
    TechnicianSkill,
)

T_CUSTOMER = Customer.__table__  # type: ignore[attr-defined]
T_SITE = Site.__table__  # type: ignore[attr-defined]
T_SKILL = Skill.__table__  # type: ignore[attr-defined]
T_TECH = Technician.__table__  # type: ignore[attr-defined]
T_TECH_SKILL = TechnicianSkill.__table__  # type: ignore[attr-defined]
T_SHIFT = ShiftPattern.__table__  # type: ignore[attr-defined]
T_ABSENCE = Absence.__table__  # type: ignore[attr-defined]
T_JOB = Job.__table__  # type: ignore[attr-defined]
T_RATE = Rate.__table__  # type: ignore[attr-defined]
T_PART = Part.__table__  # type: ignore[attr-defined]


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    updated_refs: list[str] = field(default_factory=list)  # what changed of what was there: to re-check plans


def _update_by_id(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """executemany UPDATE ... WHERE id = ?; bind names are prefixed because SQLAlchemy reserves column names."""
    if not rows:
        return
    columns = [key for key in rows[0] if key != "id"]
    statement = update(table).where(table.c.id == bindparam("b_id")).values({c: bindparam(f"b_{c}") for c in columns})
    session.connection().execute(statement, [{f"b_{key}": value for key, value in row.items()} for row in rows])


CHUNK = 5_000  # rows per executemany: bounds the memory of parameter dicts on large files


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _max_id(session: Session, table: Any) -> int:
    top: int = session.connection().execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return top


def _insert_many(session: Session, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Plain executemany. (Ordered INSERT ... RETURNING would fall back to one statement per row on SQLite.)"""
    for chunk in _chunks(rows):
        session.connection().execute(insert(table), list(chunk))


def _ids_by_ref(session: Session, table: Any, after_id: int) -> dict[str, int]:
    """ref → id of the rows inserted in this transaction (ids above ``after_id``; refs are unique)."""
    query = select(table.c.ref, table.c.id).where(table.c.id > after_id)
    return {ref: row_id for ref, row_id in session.connection().execute(query)}


def _skill_ids(session: Session) -> dict[str, int]:
    return {name: skill_id for skill_id, name in session.connection().execute(select(T_SKILL.c.id, T_SKILL.c.name))}


# --- technicians -------------------------------------------------------------------------------------


def write_technicians(session: Session, rows: list[TechnicianRow], working_days: list[int]) -> Counts:
    conn = session.connection()
    skills = _skill_ids(session)
    missing = sorted({name for row in rows for name in row.skills} - set(skills))
    if missing:  # a technician's skill list is what defines the skill catalogue
        conn.execute(insert(T_SKILL), [{"name": name} for name in missing])
        skills = _skill_ids(session)
    stored = {r.ref: r for r in conn.execute(select(T_TECH))}
    stored_skills: dict[int, set[int]] = {}
    for tech_id, skill_id in conn.execute(select(T_TECH_SKILL.c.technician_id, T_TECH_SKILL.c.skill_id)):
        stored_skills.setdefault(tech_id, set()).add(skill_id)
    stored_shifts: dict[int, set[tuple[int, int, int, int | None, int]]] = {}
    for s in conn.execute(select(T_SHIFT)):
        shift = (s.weekday, s.start_minute, s.end_minute, s.break_start_minute, s.break_minutes)
        stored_shifts.setdefault(s.technician_id, set()).add(shift)

    counts = Counts()
    for row in rows:
        values = {
            "name": row.name,
            "home_lat": row.home_lat,
            "home_lon": row.home_lon,
            "hourly_cost_cents": row.hourly_cost_cents,
            "phone": row.phone,
            "email": row.email,
            "territory": row.territory,
        }
        skill_set = {skills[name] for name in row.skills}
        shifts = {(day, row.shift_start, row.shift_end, row.break_start, row.break_minutes) for day in working_days}
        old = stored.get(row.ref)
        if old is None:
            tech_id = conn.execute(
                insert(T_TECH).values(ref=row.ref, active=True, **values).returning(T_TECH.c.id)
            ).scalar_one()
            counts.created += 1
        else:
            tech_id = old.id
            same = all(getattr(old, key) == value for key, value in values.items())
            if same and stored_skills.get(tech_id, set()) == skill_set and stored_shifts.get(tech_id, set()) == shifts:
                counts.unchanged += 1
                continue
            conn.execute(update(T_TECH).where(T_TECH.c.id == tech_id).values(**values))
            conn.execute(T_TECH_SKILL.delete().where(T_TECH_SKILL.c.technician_id == tech_id))
            conn.execute(T_SHIFT.delete().where(T_SHIFT.c.technician_id == tech_id))
            counts.updated += 1
            counts.updated_refs.append(row.ref)
        conn.execute(insert(T_TECH_SKILL), [{"technician_id": tech_id, "skill_id": s} for s in sorted(skill_set)])
        conn.execute(
            insert(T_SHIFT),
            [
                {
                    "technician_id": tech_id,
                    "weekday": d,
                    "start_minute": a,
                    "end_minute": b,
                    "break_start_minute": bs,
                    "break_minutes": bm,
                }
                for d, a, b, bs, bm in sorted(shifts, key=lambda s: s[0])
            ],
        )
    return counts


# --- customers ---------------------------------------------------------------------------------------


def write_customers(session: Session, rows: list[CustomerRow]) -> Counts:
    conn = session.connection()
    query = select(
        T_CUSTOMER.c.id,
        T_CUSTOMER.c.ref,
        T_CUSTOMER.c.name,
        T_CUSTOMER.c.phone,
        T_CUSTOMER.c.email,
        T_CUSTOMER.c.contract,
        T_SITE.c.id.label("site_id"),
        T_SITE.c.address,
        T_SITE.c.lat,
        T_SITE.c.lon,
    ).outerjoin(T_SITE, (T_SITE.c.customer_id == T_CUSTOMER.c.id) & T_SITE.c.is_primary)
    stored = {r.ref: r for r in conn.execute(query)}
    counts = Counts()
    new: list[CustomerRow] = []
    customer_updates: list[dict[str, Any]] = []
    site_updates: list[dict[str, Any]] = []
    for row in rows:
        old = stored.get(row.ref)
        if old is None:
            new.append(row)
            continue
        person = {"name": row.name, "phone": row.phone, "email": row.email, "contract": row.contract}
        place = {"address": row.address, "lat": row.lat, "lon": row.lon}
        person_same = all(getattr(old, k) == v for k, v in person.items())
        place_same = all(getattr(old, k) == v for k, v in place.items())
        if person_same and place_same:
            counts.unchanged += 1
            continue
        counts.updated += 1
        if not person_same:
            customer_updates.append({"id": old.id, **person})
        if not place_same:
            site_updates.append({"id": old.site_id, **place})
    _update_by_id(session, T_CUSTOMER, customer_updates)
    _update_by_id(session, T_SITE, site_updates)
    if new:
        before = _max_id(session, T_CUSTOMER)
        _insert_many(
            session,
            T_CUSTOMER,
            [{"ref": r.ref, "name": r.name, "phone": r.phone, "email": r.email, "contract": r.contract} for r in new],
        )
        ids = _ids_by_ref(session, T_CUSTOMER, before)
        _insert_many(
            session,
            T_SITE,
            [
                {"customer_id": ids[r.ref], "address": r.address, "lat": r.lat, "lon": r.lon, "is_primary": True}
                for r in new
            ],
        )
        counts.created += len(new)
    return counts


# --- requests ----------------------------------------------------------------------------------------

_JOB_FIELDS = (
    "customer_id",
    "site_id",
    "skill_id",
    "duration_min",
    "priority",
    "window_start",
    "window_end",
    "due_by",
    "source",
    "description",
)


def write_requests(
    session: Session,
    rows: list[RequestRow],
    actor: str,
    errors: list[RowError],
    *,
    created_note: str = "created by import",
) -> Counts:
    conn = session.connection()
    customers = {
        ref: (cid, site_id)
        for cid, ref, site_id in conn.execute(
            select(T_CUSTOMER.c.id, T_CUSTOMER.c.ref, T_SITE.c.id).join(
                T_SITE, (T_SITE.c.customer_id == T_CUSTOMER.c.id) & T_SITE.c.is_primary
            )
        )
    }
    skills = _skill_ids(session)
    for row in rows:
        if row.customer_ref not in customers:
            errors.append(
                RowError(row.line, "customer_ref", f"no customer {row.customer_ref!r}: import customers first")
            )
        if row.skill not in skills:
            known = ", ".join(sorted(skills)) or "none yet: import technicians first"
            errors.append(RowError(row.line, "skill", f"no technician has skill {row.skill!r} (known: {known})"))
    if errors:
        return Counts()

    site_of = _request_sites(session, rows, customers)
    stored = {
        r.ref: r
        for r in conn.execute(
            select(T_JOB.c.id, T_JOB.c.ref, T_JOB.c.status, T_JOB.c.version, *(T_JOB.c[name] for name in _JOB_FIELDS))
        )
    }
    counts = Counts()
    for chunk in _chunks(rows):
        new: list[dict[str, Any]] = []
        changed: list[DetailsChange] = []
        for row in chunk:
            values = {
                "customer_id": customers[row.customer_ref][0],
                "site_id": site_of[row.line],
                "skill_id": skills[row.skill],
                "duration_min": row.duration_min,
                "priority": row.priority,
                "window_start": row.window_start,
                "window_end": row.window_end,
                "due_by": row.due_by,
                "source": row.source,
                "description": row.description,
            }
            old = stored.get(row.ref)
            if old is None:
                new.append({"ref": row.ref} | values)
                continue
            differing = [name for name in _JOB_FIELDS if getattr(old, name) != values[name]]
            if not differing:
                counts.unchanged += 1
                continue
            counts.updated += 1
            counts.updated_refs.append(row.ref)
            note = f"updated by import: {', '.join(differing)}"
            changed.append(DetailsChange(old.id, row.ref, old.version, old.status, values, note))
        change_details(session, changed, actor)
        counts.created += create_jobs(session, new, actor, created_note)
    return counts


def _request_sites(session: Session, rows: list[RequestRow], customers: dict[str, tuple[int, int]]) -> dict[int, int]:
    """Site id per row line: the customer's own site, or the site at the row's lat/lon/address (made once)."""
    conn = session.connection()
    site_of: dict[int, int] = {}
    elsewhere = [row for row in rows if row.lat is not None]
    known: dict[tuple[int, str, float, float], int] = {}
    if elsewhere:
        owners = {customers[row.customer_ref][0] for row in elsewhere}
        query = select(T_SITE.c.id, T_SITE.c.customer_id, T_SITE.c.address, T_SITE.c.lat, T_SITE.c.lon).where(
            T_SITE.c.is_primary.is_(False)
        )
        known = {(c, a, la, lo): i for i, c, a, la, lo in conn.execute(query) if c in owners}
    fresh: dict[tuple[int, str, float, float], None] = {}
    for row in elsewhere:
        key = (customers[row.customer_ref][0], row.address or "", row.lat or 0.0, row.lon or 0.0)
        if key not in known:
            fresh[key] = None
    if fresh:
        before = _max_id(session, T_SITE)
        _insert_many(
            session,
            T_SITE,
            [{"customer_id": c, "address": a, "lat": la, "lon": lo, "is_primary": False} for c, a, la, lo in fresh],
        )
        query = select(T_SITE.c.id, T_SITE.c.customer_id, T_SITE.c.address, T_SITE.c.lat, T_SITE.c.lon)
        known.update({(c, a, la, lo): i for i, c, a, la, lo in conn.execute(query.where(T_SITE.c.id > before))})
    for row in rows:
        customer_id, primary_site = customers[row.customer_ref]
        if row.lat is None or row.lon is None:
            site_of[row.line] = primary_site
        else:
            site_of[row.line] = known[(customer_id, row.address or "", row.lat, row.lon)]
    return site_of


# --- absences ----------------------------------------------------------------------------------------


def write_absences(session: Session, rows: list[AbsenceRow], errors: list[RowError]) -> Counts:
    conn = session.connection()
    technicians = {ref: tech_id for ref, tech_id in conn.execute(select(T_TECH.c.ref, T_TECH.c.id))}
    for row in rows:
        if row.technician_ref not in technicians:
            errors.append(RowError(row.line, "technician_ref", f"no technician {row.technician_ref!r}"))
    if errors:
        return Counts()
    stored: dict[tuple[int, datetime, datetime], tuple[int, str]] = {
        (r.technician_id, r.start, r.end): (r.id, r.reason) for r in conn.execute(select(T_ABSENCE))
    }
    counts = Counts()
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for row in rows:
        tech_id = technicians[row.technician_ref]
        old = stored.get((tech_id, row.start, row.end))
        if old is None:
            new.append({"technician_id": tech_id, "start": row.start, "end": row.end, "reason": row.reason})
        elif old[1] == row.reason:
            counts.unchanged += 1
        else:
            changed.append({"id": old[0], "reason": row.reason})
            counts.updated += 1
    _update_by_id(session, T_ABSENCE, changed)
    if new:
        conn.execute(insert(T_ABSENCE), new)
        counts.created += len(new)
    return counts


# --- rates and parts ---------------------------------------------------------------------------------


def write_rates(session: Session, rows: list[RateRow], errors: list[RowError]) -> Counts:
    """Upsert rate card lines by (contract, skill). A named skill must exist: a typo would never match a job."""
    conn = session.connection()
    skills = _skill_ids(session)
    for row in rows:
        if row.skill != ANY_SKILL and row.skill not in skills:
            known = ", ".join(sorted(skills)) or "none yet: import technicians first"
            errors.append(RowError(row.line, "skill", f"no technician has skill {row.skill!r} (known: {known}, or *)"))
    if errors:
        return Counts()
    stored = {(r.contract, r.skill): r for r in conn.execute(select(T_RATE))}
    counts = Counts()
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for row in rows:
        values = {
            "hourly_rate_cents": row.hourly_rate_cents,
            "callout_fee_cents": row.callout_fee_cents,
            "labor_covered": row.labor_covered,
        }
        old = stored.get((row.contract, row.skill))
        if old is None:
            new.append({"contract": row.contract, "skill": row.skill, **values})
        elif all(getattr(old, key) == value for key, value in values.items()):
            counts.unchanged += 1
        else:
            changed.append({"id": old.id, **values})
            counts.updated += 1
    _update_by_id(session, T_RATE, changed)
    _insert_many(session, T_RATE, new)
    counts.created += len(new)
    return counts


def write_parts(session: Session, rows: list[PartRow]) -> Counts:
    """Upsert the parts catalogue by sku. A new price applies to parts recorded from now on, not to past visits."""
    conn = session.connection()
    stored = {r.sku: r for r in conn.execute(select(T_PART))}
    counts = Counts()
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for row in rows:
        values = {"name": row.name, "unit_price_cents": row.unit_price_cents}
        old = stored.get(row.sku)
        if old is None:
            new.append({"sku": row.sku, **values})
        elif old.name == row.name and old.unit_price_cents == row.unit_price_cents:
            counts.unchanged += 1
        else:
            changed.append({"id": old.id, **values})
            counts.updated += 1
    _update_by_id(session, T_PART, changed)
    _insert_many(session, T_PART, new)
    counts.created += len(new)
    return counts
