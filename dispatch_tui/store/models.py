"""The tables of the store.

Times are aware datetimes in UTC (see ``UTCDateTime``); durations are whole minutes; times of day in
shift patterns are minutes after local midnight. Money is kept in integer cents so that SQLite and
PostgreSQL round alike.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from dispatch_tui import clock
from dispatch_tui.domain import AppointmentOrigin, DeliveryState, JobSource, JobStatus, NoticeKind
from dispatch_tui.notify_config import Channel
from dispatch_tui.store.types import UTCDateTime

__all__ = ["AppointmentOrigin", "JobSource", "JobStatus"]  # re-exported: the store's callers use them


def utcnow() -> datetime:
    """The process's clock (``dispatch_tui.clock``): a set or frozen clock stamps the records too."""
    return clock.now()


def _one_of(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=200)
    phone: str = Field(default="", max_length=64)
    email: str = Field(default="", max_length=200)
    # Name of the contract / rate card; rate cards are matched by this name.
    contract: str | None = Field(default=None, max_length=100)


class Site(SQLModel, table=True):
    """Where the work happens. Each customer has one primary site (its own address)."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    address: str = Field(default="", max_length=300)
    lat: float
    lon: float
    is_primary: bool = Field(default=False)

    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90", name="ck_site_lat"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="ck_site_lon"),
    )


class Skill(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=64)


class TechnicianSkill(SQLModel, table=True):
    technician_id: int = Field(
        sa_column=Column(Integer, ForeignKey("technician.id", ondelete="CASCADE"), primary_key=True)
    )
    skill_id: int = Field(sa_column=Column(Integer, ForeignKey("skill.id", ondelete="CASCADE"), primary_key=True))
    level: int | None = Field(default=None)


class Technician(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=200)
    home_lat: float
    home_lon: float
    hourly_cost_cents: int = Field(default=0)
    phone: str = Field(default="", max_length=64)
    email: str = Field(default="", max_length=200)
    territory: str | None = Field(default=None, max_length=100)
    active: bool = Field(default=True)

    __table_args__ = (
        CheckConstraint("home_lat BETWEEN -90 AND 90", name="ck_technician_home_lat"),
        CheckConstraint("home_lon BETWEEN -180 AND 180", name="ck_technician_home_lon"),
        CheckConstraint("hourly_cost_cents >= 0", name="ck_technician_cost"),
    )


class ShiftPattern(SQLModel, table=True):
    """A technician's regular working hours on one weekday (0 = Monday), in local minutes."""

    id: int | None = Field(default=None, primary_key=True)
    technician_id: int = Field(
        sa_column=Column(Integer, ForeignKey("technician.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    weekday: int
    start_minute: int
    end_minute: int
    break_start_minute: int | None = Field(default=None)
    break_minutes: int = Field(default=0)

    __table_args__ = (
        UniqueConstraint("technician_id", "weekday", name="uq_shift_technician_weekday"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_shift_weekday"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute", name="ck_shift_span"),
        CheckConstraint("break_minutes >= 0", name="ck_shift_break"),
    )


class Absence(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    technician_id: int = Field(
        sa_column=Column(Integer, ForeignKey("technician.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    start: datetime = Field(sa_type=UTCDateTime)
    end: datetime = Field(sa_type=UTCDateTime)
    reason: str = Field(default="", max_length=200)

    __table_args__ = (
        UniqueConstraint("technician_id", "start", "end", name="uq_absence_span"),
        CheckConstraint('"end" > start', name="ck_absence_span"),
    )


class Job(SQLModel, table=True):
    """A service request and, once planned, the work it becomes."""

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, index=True, max_length=64)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    skill_id: int = Field(foreign_key="skill.id", index=True)
    duration_min: int
    priority: int
    # The promised arrival window: service starts inside it.
    window_start: datetime = Field(sa_type=UTCDateTime, index=True)
    window_end: datetime = Field(sa_type=UTCDateTime)
    due_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    source: str = Field(max_length=20)
    status: str = Field(default=JobStatus.NEW.value, max_length=20, index=True)
    description: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Optimistic concurrency: every write bumps it; a write based on an older value is refused.
    version: int = Field(default=1)

    __table_args__ = (
        CheckConstraint("duration_min > 0", name="ck_job_duration"),
        CheckConstraint("priority BETWEEN 1 AND 4", name="ck_job_priority"),
        CheckConstraint("window_end > window_start", name="ck_job_window"),
        CheckConstraint(_one_of("source", JobSource), name="ck_job_source"),
        CheckConstraint(_one_of("status", JobStatus), name="ck_job_status"),
    )


class Appointment(SQLModel, table=True):
    """A job placed on a technician's day. At most one per job."""

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(
        sa_column=Column(Integer, ForeignKey("job.id", ondelete="CASCADE"), nullable=False, unique=True)
    )
    technician_id: int = Field(foreign_key="technician.id", index=True)
    start: datetime = Field(sa_type=UTCDateTime, index=True)
    end: datetime = Field(sa_type=UTCDateTime)
    travel_minutes: int = Field(default=0)
    locked: bool = Field(default=False)
    origin: str = Field(default=AppointmentOrigin.DISPATCHER.value, max_length=20)

    __table_args__ = (
        CheckConstraint('"end" > start', name="ck_appointment_span"),
        CheckConstraint("travel_minutes >= 0", name="ck_appointment_travel"),
        CheckConstraint(_one_of("origin", AppointmentOrigin), name="ck_appointment_origin"),
    )


class JobEvent(SQLModel, table=True):
    """The audit trail: every change of a job, who made it and when."""

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(sa_column=Column(Integer, ForeignKey("job.id", ondelete="CASCADE"), nullable=False, index=True))
    actor: str = Field(max_length=100)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    note: str = Field(default="")


class TravelCacheEntry(SQLModel, table=True):
    """A driving time from a routing server, kept so that the same pair is asked for once.

    Places are keyed by whole 1e-5 degrees (``round(deg * 1e5)``, about 1 m), exact integers rather than
    floats; ``source`` names the server (its URL), so that times from another server are never reused.
    """

    source: str = Field(primary_key=True, max_length=500)
    from_lat_e5: int = Field(primary_key=True)
    from_lon_e5: int = Field(primary_key=True)
    to_lat_e5: int = Field(primary_key=True)
    to_lon_e5: int = Field(primary_key=True)
    minutes: int
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    __table_args__ = (CheckConstraint("minutes >= 0", name="ck_travelcache_minutes"),)


class Rate(SQLModel, table=True):
    """A line of a rate card: what a contract pays per hour and per call-out for a skill (``*``: any).

    ``contract`` is ``none`` for customers without a contract. The most specific line wins:
    (contract, skill) > (contract, ``*``) > (``none``, skill) > (``none``, ``*``).
    """

    id: int | None = Field(default=None, primary_key=True)
    contract: str = Field(max_length=100)
    skill: str = Field(max_length=64)
    hourly_rate_cents: int
    callout_fee_cents: int
    labor_covered: bool = Field(default=False)

    __table_args__ = (
        UniqueConstraint("contract", "skill", name="uq_rate_contract_skill"),
        CheckConstraint("hourly_rate_cents >= 0 AND callout_fee_cents >= 0", name="ck_rate_amounts"),
    )


class Part(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=200)
    unit_price_cents: int

    __table_args__ = (CheckConstraint("unit_price_cents >= 0", name="ck_part_price"),)


class JobPart(SQLModel, table=True):
    """Parts used on a visit, at the unit price of the moment they were recorded (what the invoice shows)."""

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(sa_column=Column(Integer, ForeignKey("job.id", ondelete="CASCADE"), nullable=False, index=True))
    part_id: int = Field(foreign_key="part.id", index=True)
    quantity: int
    unit_price_cents: int

    __table_args__ = (
        UniqueConstraint("job_id", "part_id", name="uq_jobpart_job_part"),
        CheckConstraint("quantity > 0", name="ck_jobpart_quantity"),
        CheckConstraint("unit_price_cents >= 0", name="ck_jobpart_price"),
    )


class Feedback(SQLModel, table=True):
    """The customer's rating of a visit: one per job (a later rating replaces it)."""

    job_id: int = Field(sa_column=Column(Integer, ForeignKey("job.id", ondelete="CASCADE"), primary_key=True))
    rating: int
    comment: str = Field(default="")
    actor: str = Field(max_length=100)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="ck_feedback_rating"),)


class FollowUp(SQLModel, table=True):
    """A follow-up request (``job_id``) and the visit that ended needs_follow_up and asked for it.

    A table of its own rather than a column on job: adding a foreign-key column to job would make SQLite
    copy the job table, and dropping the old copy with foreign keys on would cascade to every event.
    """

    job_id: int = Field(sa_column=Column(Integer, ForeignKey("job.id", ondelete="CASCADE"), primary_key=True))
    of_job_id: int = Field(
        sa_column=Column(Integer, ForeignKey("job.id", ondelete="CASCADE"), nullable=False, index=True)
    )


class BillingExport(SQLModel, table=True):
    """A job that went out in a billing export: the next export skips it unless asked to repeat."""

    job_id: int = Field(sa_column=Column(Integer, ForeignKey("job.id", ondelete="CASCADE"), primary_key=True))
    exported_at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=100)


class GeocodeCacheEntry(SQLModel, table=True):
    """A position a geocoding server gave for an address, kept so that the same address is asked for once.

    ``query`` is the address as asked, folded (``services.intake.geocoder.address_key``: case and runs of
    spaces do not count); ``source`` names the server (its URL), so that answers of another server are
    never reused.
    """

    source: str = Field(primary_key=True, max_length=500)
    query: str = Field(primary_key=True, max_length=300)
    lat: float
    lon: float
    display_name: str = Field(default="", max_length=1000)
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90", name="ck_geocodecache_lat"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="ck_geocodecache_lon"),
    )


class CustomerStamp(SQLModel, table=True):
    """One row, whose ``version`` the store's triggers on customer and site (migration 0005) bump at every
    insert, update or delete, whoever the writer is (an import, the CLI, a script with psql): the customer
    lookup's index, kept in memory, is rebuilt when it moved, and reading it costs one row."""

    id: int = Field(primary_key=True)
    version: int = Field(default=0)


class Notice(SQLModel, table=True):
    """The outbox: an event a customer is to be told of, written in the transaction of the change that
    caused it (``services.jobs``), so that a change rolled back leaves none and a committed one always
    leaves its own. ``key`` (job ref:kind:job version) goes with every copy sent, so a receiver drops
    repeats; ``facts`` (JSON) is what the texts say, as of the change. The sender routes each notice to its
    channels (``Delivery`` rows) and stamps ``routed_at``."""

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(sa_column=Column(Integer, ForeignKey("job.id", ondelete="CASCADE"), nullable=False, index=True))
    kind: str = Field(max_length=20)
    job_version: int
    key: str = Field(unique=True, max_length=120)
    facts: str = Field(default="{}")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    routed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)

    __table_args__ = (
        UniqueConstraint("job_id", "kind", "job_version", name="uq_notice_event"),
        CheckConstraint(_one_of("kind", NoticeKind), name="ck_notice_kind"),
    )


class Delivery(SQLModel, table=True):
    """One notice on one channel: its state, attempts, next attempt and last error. A sender claims a row
    until ``claimed_until`` (a sender killed mid-send loses its claim then, and the row is sent again: at
    least once)."""

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(
        sa_column=Column(Integer, ForeignKey("notice.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    channel: str = Field(max_length=10)
    recipient: str = Field(default="", max_length=500)
    state: str = Field(default=DeliveryState.PENDING.value, max_length=10)
    attempts: int = Field(default=0)
    due_at: datetime = Field(sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="")
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    __table_args__ = (
        UniqueConstraint("notice_id", "channel", name="uq_delivery_channel"),
        CheckConstraint(_one_of("channel", Channel), name="ck_delivery_channel"),
        CheckConstraint(_one_of("state", DeliveryState), name="ck_delivery_state"),
        CheckConstraint("attempts >= 0", name="ck_delivery_attempts"),
        Index("ix_delivery_due", "state", "due_at"),  # what a sender claims next
    )


class ContactPreference(SQLModel, table=True):
    """How a customer wants to be told: the channels they chose (comma-separated; empty: none at all) and
    the kinds of message they opted out of. No row: the settings' default channels, every kind."""

    customer_id: int = Field(sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True))
    channels: str = Field(default="", max_length=100)
    opted_out: str = Field(default="", max_length=300)
