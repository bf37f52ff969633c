"""One message on its way: a notice (the event) on one channel, as the sender hands it to a channel.

``facts`` is the notice's JSON as the gate wrote it (``outbox.FACTS``): times are ISO 8601 in UTC; the
texts show them in the store's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from dispatch_tui.domain import NoticeKind
from dispatch_tui.notify_config import Channel


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    key: str  # the idempotency key: job ref:kind:job version, the same on every copy and every retry
    kind: NoticeKind
    channel: Channel
    recipient: str  # an email address, a phone number in E.164 (+33612345678), or the webhook's URL
    created_at: datetime  # when the event happened (the notice was written)
    facts: dict[str, Any]
    attempts: int = 0  # attempts made before this one


class DeliveryError(Exception):
    """A channel could not deliver. ``permanent``: trying again cannot help (a refused address, a 4xx
    answer other than 408/425/429): the message fails at once instead of after every attempt."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def shown_url(url: str) -> str:
    """``url`` without what may hold a credential (user:password@, the query)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}" if host else "(no host)"
