"""Who the audit trail names for a change made from this machine, by every front end alike."""

from __future__ import annotations

import getpass


def current_user() -> str:
    """The logged-in user's name; 'unknown' where the system cannot say (a container without one)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
