"""What a service raises when it changes nothing: each front end maps these to its message (and exit code)."""

from __future__ import annotations


class Refused(Exception):
    """The change breaks the rules (or the job's state forbids it); nothing was written.

    ``overridable``: the reasons are the scheduling rules, which ``force`` overrides; a refusal for the
    job's state (completed, under way, locked…) is not, and its reasons say what can be done instead."""

    def __init__(self, reasons: list[str], *, overridable: bool = False) -> None:
        self.reasons = reasons
        self.overridable = overridable
        super().__init__("; ".join(reasons))


class Conflict(Exception):
    """Someone else changed the job since it was read; nothing was written."""


class NotFound(Exception):
    """No job or technician with that ref."""
