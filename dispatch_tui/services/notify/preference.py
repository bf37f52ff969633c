"""A customer's choice of how to be told, as its ``ContactPreference`` row keeps it: the channels (comma-
separated, ``*`` for the settings' own) and the kinds of message opted out of."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch_tui.notify_config import Channel
from dispatch_tui.store.models import ContactPreference

DEFAULT_CHANNELS = "*"  # a preference row that keeps the settings' channels (only kinds opted out)


@dataclass(frozen=True)
class Preference:
    channels: tuple[Channel, ...] | None  # None: the settings' defaults
    opted_out: frozenset[str]

    @classmethod
    def of(cls, row: ContactPreference | None) -> Preference:
        if row is None:
            return cls(None, frozenset())
        chosen = None if row.channels == DEFAULT_CHANNELS else tuple(Channel(c) for c in row.channels.split(",") if c)
        return cls(chosen, frozenset(k for k in row.opted_out.split(",") if k))
