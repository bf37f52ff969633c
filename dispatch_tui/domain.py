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


class ImportKind(StrEnum):
    TECHNICIANS = "technicians"
    CUSTOMERS = "customers"
    REQUESTS = "requests"
    ABSENCES = "absences"


class FileFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"
