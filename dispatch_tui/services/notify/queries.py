"""What was sent, to whom, and what became of it (`dispatch notify list`, the status pane); a failed
message sent again (`dispatch notify retry`); a customer's choice of channels (`dispatch customers
notify`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select as select_columns
from sqlalchemy import update
from sqlmodel import Session, col, select

from dispatch_tui.domain import DeliveryState, NoticeKind
from dispatch_tui.localtime import local_iso, local_moment
from dispatch_tui.notify_config import Channel
from dispatch_tui.services.errors import NotFound, Refused
from dispatch_tui.services.notify.preference import DEFAULT_CHANNELS, Preference
from dispatch_tui.store.models import ContactPreference, Customer, Delivery, Job, Notice


@dataclass(frozen=True)
class MessageRow:
    """One message on one channel (``as_json``: docs/cli-json.md, notify list)."""

    id: int
    job_ref: str
    kind: str
    key: str
    channel: str
    recipient: str
    state: str
    attempts: int
    created_at: datetime
    due_at: datetime
    sent_at: datetime | None
    last_error: str

    def as_json(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "id": self.id, "job_ref": self.job_ref, "kind": self.kind, "key": self.key, "channel": self.channel,
            "recipient": self.recipient, "state": self.state, "attempts": self.attempts,
            "created_at": local_iso(self.created_at, zone), "due_at": local_iso(self.due_at, zone),
            "sent_at": local_iso(self.sent_at, zone), "last_error": self.last_error,
        }  # fmt: skip

    def summary(self, zone: ZoneInfo) -> str:
        """One line for a person: kind, channel, recipient, what became of it and when."""
        if self.state == DeliveryState.SENT and self.sent_at is not None:
            how = f"sent {local_moment(self.sent_at, zone)}"
        elif self.state == DeliveryState.PENDING:
            how = f"pending ({self.attempts} attempt(s)), next {local_moment(self.due_at, zone)}"
            if self.last_error:
                how += f": {self.last_error}"
        else:
            how = f"{self.state}: {self.last_error}"
        return f"{self.kind.replace('_', ' ')} by {self.channel} to {self.recipient or '-'}: {how}"


def list_messages(
    session: Session, *, state: str | None = None, job_ref: str | None = None, limit: int | None = None,
    delivery_id: int | None = None,
) -> list[MessageRow]:  # fmt: skip
    """Messages, newest first; unrouted notices are not listed (the sender routes them within a pass)."""
    query = (
        select_columns(
            col(Delivery.id),
            col(Job.ref),
            col(Notice.kind),
            col(Notice.key),
            col(Delivery.channel),
            col(Delivery.recipient),
            col(Delivery.state),
            col(Delivery.attempts),
            col(Notice.created_at),
            col(Delivery.due_at),
            col(Delivery.sent_at),
            col(Delivery.last_error),
        )
        .join(Notice, col(Notice.id) == col(Delivery.notice_id))
        .join(Job, col(Job.id) == col(Notice.job_id))
        .order_by(col(Delivery.id).desc())
    )
    if state is not None:
        query = query.where(col(Delivery.state) == state)
    if job_ref is not None:
        query = query.where(col(Job.ref) == job_ref)
    if delivery_id is not None:
        query = query.where(col(Delivery.id) == delivery_id)
    if limit is not None:
        query = query.limit(limit)
    return [MessageRow(*row) for row in session.execute(query)]


def unrouted(session: Session, job_ref: str) -> list[str]:
    """The kinds of ``job_ref``'s notices the sender has not routed yet (written, not yet on a channel)."""
    rows = session.execute(
        select(col(Notice.kind))
        .join(Job, col(Job.id) == col(Notice.job_id))
        .where(col(Job.ref) == job_ref, col(Notice.routed_at).is_(None))
        .order_by(col(Notice.id))
    )
    return list(rows.scalars())


def retry(session: Session, delivery_id: int, now: datetime) -> MessageRow:
    """A failed message due again now, with its attempts counted anew."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no message {delivery_id}: dispatch notify list shows them")
    if delivery.state != DeliveryState.FAILED:
        hint = {
            DeliveryState.PENDING: "it is pending already: the next `dispatch notify run` sends it",
            DeliveryState.SENT: "it was delivered",
            DeliveryState.SKIPPED: f"it was not sent on purpose ({delivery.last_error})",
        }[DeliveryState(delivery.state)]
        raise Refused([f"message {delivery_id} is {delivery.state}: {hint}; only a failed message is retried"])
    session.execute(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id, col(Delivery.state) == DeliveryState.FAILED.value)
        .values(
            state=DeliveryState.PENDING.value,
            attempts=0,
            due_at=now,
            claimed_by=None,
            claimed_until=None,
            updated_at=now,
        )
    )
    session.flush()
    return list_messages(session, delivery_id=delivery_id)[0]


@dataclass(frozen=True)
class ContactChoice:
    customer_ref: str
    channels: tuple[str, ...] | None  # None: the settings' defaults
    opted_out: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"customer_ref": self.customer_ref,
                "channels": list(self.channels) if self.channels is not None else None,
                "opted_out": list(self.opted_out)}  # fmt: skip


def set_contact(
    session: Session, customer_ref: str, *, channels: Sequence[str] | None, opt_out: Sequence[str] = (),
    opt_in: Sequence[str] = (),
) -> ContactChoice:  # fmt: skip
    """Record how ``customer_ref`` wants to be told: ``channels`` (None: keep; ``["default"]``: the
    settings' own), kinds opted out of or in."""
    customer = _customer(session, customer_ref)
    default = list(channels or ()) == ["default"]
    problems = [f"unknown channel {c!r}: use email, sms, none or default" for c in channels or ()
                if c not in _CUSTOMER and not default]  # fmt: skip
    kinds = {k.value for k in NoticeKind}
    problems += [f"unknown message kind {k!r}: use {', '.join(sorted(kinds))}" for k in (*opt_out, *opt_in)
                 if k not in kinds]  # fmt: skip
    if problems:
        raise Refused(problems)
    row = session.get(ContactPreference, customer.id)
    if row is None:
        row = ContactPreference(customer_id=customer.id or 0, channels=DEFAULT_CHANNELS)
    if channels is not None:
        row.channels = DEFAULT_CHANNELS if default else ",".join(c for c in _CUSTOMER if c in channels)
    out = (set(row.opted_out.split(",")) - {""} | set(opt_out)) - set(opt_in)
    row.opted_out = ",".join(sorted(out))
    session.add(row)
    session.flush()
    return contact_of(session, customer_ref)


def contact_of(session: Session, customer_ref: str) -> ContactChoice:
    customer = _customer(session, customer_ref)
    chosen = Preference.of(session.get(ContactPreference, customer.id))
    channels = None if chosen.channels is None else tuple(c.value for c in chosen.channels)
    return ContactChoice(customer.ref, channels, tuple(sorted(chosen.opted_out)))


def _customer(session: Session, customer_ref: str) -> Customer:
    customer = session.exec(select(Customer).where(col(Customer.ref) == customer_ref)).first()
    if customer is None:
        raise NotFound(f"no customer {customer_ref!r}: dispatch customers find NAME shows them")
    return customer


_CUSTOMER = (Channel.EMAIL.value, Channel.SMS.value)
