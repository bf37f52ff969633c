"""Routing: a notice becomes one delivery per channel, as the customer chose and the settings allow.

A customer's channels are those they chose (``ContactPreference``), else the settings' defaults (email,
sms). A chosen channel that cannot be used is still written, as ``skipped`` with why (opted out of this
kind, no address, the channel not configured), so that the status pane and `dispatch notify list` say
why nobody was told. The office's webhook gets every notice. A customer's message due in the quiet
hours waits for their end (the nightly optimizer's confirmations wake nobody), except the live ones:
"on the way" and "running late" are news only now.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from dispatch_tui.domain import DeliveryState, NoticeKind
from dispatch_tui.notify_config import Channel, NotifySettings
from dispatch_tui.services.intake.customers import e164
from dispatch_tui.services.notify.outgoing import shown_url
from dispatch_tui.services.notify.preference import Preference
from dispatch_tui.store.models import ContactPreference, Customer, Delivery, Job, Notice

CUSTOMER_CHANNELS = (Channel.EMAIL, Channel.SMS)
LIVE = (NoticeKind.EN_ROUTE.value, NoticeKind.RUNNING_LATE.value)  # sent in the quiet hours too
NOT_CONFIGURED = {
    Channel.EMAIL: "no mail server is set (notify.smtp_host and notify.email_from)",
    Channel.SMS: "no SMS gateway is set (notify.sms_url)",
}
T_DELIVERY = Delivery.__table__  # type: ignore[attr-defined]  # SQLModel sets __table__ at runtime only


def route(session: Session, settings: NotifySettings, zone: ZoneInfo, region: str | None, now: datetime,
          limit: int = 500) -> int:  # fmt: skip
    """Route up to ``limit`` notices not yet routed, oldest first; returns how many. The caller's
    transaction holds them (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two senders never route one twice."""
    query = (
        select(Notice, Customer, ContactPreference)
        .join(Job, col(Job.id) == col(Notice.job_id))
        .join(Customer, col(Customer.id) == col(Job.customer_id))
        .outerjoin(ContactPreference, col(ContactPreference.customer_id) == col(Customer.id))
        .where(col(Notice.routed_at).is_(None))
        .order_by(col(Notice.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Notice, skip_locked=True)
    rows = session.execute(query).all()
    if not rows:
        return 0
    ready = settings.configured()
    deliveries = []
    for notice, customer, chosen in rows:
        for channel, recipient, why in plan_channels(notice.kind, customer, Preference.of(chosen), settings, ready,
                                                     region):  # fmt: skip
            held = not why and notice.kind not in LIVE and channel != Channel.WEBHOOK
            due = after_quiet_hours(now, settings, zone) if held else now
            deliveries.append({
                "notice_id": notice.id, "channel": channel.value, "recipient": recipient,
                "state": (DeliveryState.SKIPPED if why else DeliveryState.PENDING).value, "attempts": 0,
                "due_at": due, "last_error": why, "updated_at": now,
            })  # fmt: skip
    if deliveries:
        session.execute(insert(T_DELIVERY), deliveries)
    ids = [notice.id for notice, _customer, _chosen in rows]
    session.execute(update(Notice).where(col(Notice.id).in_(ids)).values(routed_at=now))
    return len(rows)


def plan_channels(
    kind: str, customer: Customer, preference: Preference, settings: NotifySettings, ready: set[Channel],
    region: str | None,
) -> list[tuple[Channel, str, str]]:  # fmt: skip
    """(channel, recipient, why not: '' when it is to be sent) for one notice."""
    chosen: Sequence[Channel] = preference.channels if preference.channels is not None else settings.channels
    planned = []
    for channel in CUSTOMER_CHANNELS:
        if channel not in chosen:
            continue
        recipient = customer.email.strip() if channel == Channel.EMAIL else (e164(customer.phone, region) or "")
        why = ""
        if kind in preference.opted_out:
            why = f"{customer.ref} opted out of {kind} messages"
        elif channel not in ready:
            why = NOT_CONFIGURED[channel]
        elif not recipient:
            what = "email address" if channel == Channel.EMAIL else "mobile number that can be read"
            why = f"{customer.ref} has no {what}"
        planned.append((channel, recipient, why))
    if Channel.WEBHOOK in ready and settings.webhook_url:
        # Shown, not used: the sender posts to the webhook set when it sends, and a URL may hold a token.
        planned.append((Channel.WEBHOOK, shown_url(settings.webhook_url), ""))
    return planned


def after_quiet_hours(moment: datetime, settings: NotifySettings, zone: ZoneInfo) -> datetime:
    """``moment``, or the end of the quiet hours it falls in."""
    span = settings.quiet_span()
    if span is None:
        return moment
    start, end = span
    local = moment.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock or clock < end if start > end else start <= clock < end
    if not inside:
        return moment
    day = local.date() + timedelta(days=1) if start > end and clock >= start else local.date()
    return datetime.combine(day, end, tzinfo=zone)
