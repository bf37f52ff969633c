"""The product's vocabulary: plain enums shared by the store, the services and the front ends.

Importing this costs nothing, so the CLI and the TUI can declare their options and columns without
loading SQLModel on their start path.
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    NEW = "new"
    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    NEEDS_FOLLOW_UP = "needs_follow_up"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"


class JobSource(StrEnum):
    PHONE = "phone"
    WEB = "web"
    EMAIL = "email"
    TECHNICIAN = "technician"
    BACK_OFFICE = "back_office"


class AppointmentOrigin(StrEnum):
    DISPATCHER = "dispatcher"
    OPTIMIZER = "optimizer"


class AlertKind(StrEnum):
    """What the board alerts on (the notices' titles, with spaces for the underscores)."""

    WINDOW_AT_RISK = "window_at_risk"  # a planned visit cannot reach its window any more
    PAST_DUE = "past_due"  # queued work waiting past its due time
    RUNNING_LATE = "running_late"  # a technician behind plan (``services.lateness``)
    # A planned visit that no longer keeps the job's promise (``services.promises``):
    OUTSIDE_WINDOW = "outside_window"
    DURATION_CHANGED = "duration_changed"
    SKILL_MISSING = "skill_missing"
    MESSAGE_FAILED = "message_failed"  # a message to the customer could not be delivered (``services.notify``)


BROKEN_PROMISES = (AlertKind.OUTSIDE_WINDOW, AlertKind.DURATION_CHANGED, AlertKind.SKILL_MISSING)


class ChangeKind(StrEnum):
    """What the optimizer does to a job's visit."""

    ADD = "add"  # from the queue onto a day
    MOVE = "move"  # to another technician
    RETIME = "retime"  # same technician, another time
    DROP = "drop"  # back to the queue


class ImportKind(StrEnum):
    TECHNICIANS = "technicians"
    CUSTOMERS = "customers"
    REQUESTS = "requests"
    ABSENCES = "absences"
    RATES = "rates"
    PARTS = "parts"


class FileFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"


# The import schemas' columns, in their documented order (docs/import-files.md): the contract with ops scripts.
IMPORT_COLUMNS: dict[ImportKind, tuple[str, ...]] = {
    ImportKind.TECHNICIANS: (
        "ref", "name", "skills", "home_lat", "home_lon", "shift_start", "shift_end", "break_start",
        "break_minutes", "hourly_cost", "phone", "email", "territory",
    ),
    ImportKind.CUSTOMERS: ("ref", "name", "address", "lat", "lon", "phone", "email", "contract"),
    ImportKind.REQUESTS: (
        "ref", "customer_ref", "skill", "duration_min", "priority", "window_start", "window_end", "due_by",
        "description", "source", "lat", "lon", "address",
    ),
    ImportKind.ABSENCES: ("technician_ref", "start", "end", "reason"),
    ImportKind.RATES: ("contract", "skill", "hourly_rate", "callout_fee", "labor_covered"),
    ImportKind.PARTS: ("sku", "name", "unit_price"),
}  # fmt: skip


# A visit has ended: these are billed, rated and counted as finished.
FINISHED = (JobStatus.COMPLETED, JobStatus.NEEDS_FOLLOW_UP)
# A planned visit not yet begun: what move, unassign and the optimizer may change.
MOVABLE = (JobStatus.SCHEDULED, JobStatus.DISPATCHED)
# Under way or about to be: what "job complete" closes in one action.
STARTED = (JobStatus.DISPATCHED, JobStatus.EN_ROUTE, JobStatus.ON_SITE)

# A rate card line for customers without a contract, and for any skill.
NO_CONTRACT = "none"
ANY_SKILL = "*"


class NoticeKind(StrEnum):
    """What a customer is told (docs/webhooks.md): one message per event, keyed job:kind:version."""

    CONFIRMATION = "confirmation"  # a time was promised (booking)
    RESCHEDULED = "rescheduled"  # the promised window, or the visit's day, changed
    REMINDER = "reminder"  # the day before the visit
    EN_ROUTE = "en_route"  # the technician left for the visit, with the expected arrival
    RUNNING_LATE = "running_late"  # the technician will arrive after the promised window (once)
    COMPLETED = "completed"  # the visit is done, with a way to rate it
    FOLLOW_UP = "follow_up"  # a second visit is needed: a follow-up request was made
    CANCELLED = "cancelled"  # the visit they were told of will not happen


class DeliveryState(StrEnum):
    PENDING = "pending"  # to be sent (again), at its due time
    SENT = "sent"  # accepted by the server or receiver
    FAILED = "failed"  # given up after the last attempt; ``dispatch notify retry`` sends it again
    SKIPPED = "skipped"  # not sent, and why (opted out, no address, channel not configured)
