"""Claiming deliveries, so that two senders never send one message at the same moment, and recording
what became of them.

A sender claims due rows for a lease (``claimed_by``, ``claimed_until``) in one short transaction:
``FOR UPDATE SKIP LOCKED`` on PostgreSQL (a second sender takes the next rows instead of waiting), an
immediate transaction on SQLite (the write lock is taken before the rows are read). It sends only while
its lease holds; a sender killed mid-send simply loses its claim when the lease ends, and the row is sent
again: at least once, always under the same idempotency key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, or_, select, update
from sqlmodel import col

from dispatch_tui.domain import DeliveryState, NoticeKind
from dispatch_tui.notify_config import Channel
from dispatch_tui.services.notify.outgoing import Outgoing
from dispatch_tui.store.models import Delivery, Notice

T_DELIVERY = Delivery.__table__  # type: ignore[attr-defined]  # SQLModel sets __table__ at runtime only
MAX_ERROR = 1000  # characters of the last error kept


@dataclass(frozen=True)
class Outcome:
    """What one attempt at a claimed delivery gave: ``state`` sent, pending (again, at ``due_at``) or failed."""

    delivery_id: int
    state: DeliveryState
    error: str = ""
    due_at: datetime | None = None


def write_lock(connection: Connection) -> None:
    """On SQLite, take the write lock now (an immediate transaction), before reading what will be written:
    a second sender waits instead of reading the same rows (or failing to upgrade its read lock). On
    PostgreSQL the queries lock their own rows (``FOR UPDATE SKIP LOCKED``, unique keys)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def claim(engine: Engine, worker: str, now: datetime, lease: timedelta, limit: int) -> list[Outgoing]:
    """Claim up to ``limit`` due deliveries for ``worker`` until ``now + lease``, oldest due first."""
    due = (
        select(col(Delivery.id))
        .where(col(Delivery.state) == DeliveryState.PENDING.value, col(Delivery.due_at) <= now)
        .where(or_(col(Delivery.claimed_until).is_(None), col(Delivery.claimed_until) < now))
        .order_by(col(Delivery.due_at), col(Delivery.id))
        .limit(limit)
    )
    with engine.connect() as connection:
        write_lock(connection)
        if connection.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = [i for i in connection.execute(due).scalars() if i is not None]
        if ids:
            connection.execute(
                update(Delivery).where(col(Delivery.id).in_(ids)).values(claimed_by=worker, claimed_until=now + lease)
            )
        rows = _outgoing(connection, ids)
        connection.commit()
    return rows


def finish(engine: Engine, worker: str, outcomes: Sequence[Outcome], now: datetime) -> None:
    """Record the outcomes of ``worker``'s attempts and release its claims (only rows it still holds)."""
    if not outcomes:
        return
    statement = (
        update(T_DELIVERY)
        .where(T_DELIVERY.c.id == bindparam("b_id"), T_DELIVERY.c.claimed_by == worker)
        .values(
            state=bindparam("b_state"), attempts=T_DELIVERY.c.attempts + 1, last_error=bindparam("b_error"),
            due_at=bindparam("b_due"), sent_at=bindparam("b_sent"), claimed_by=None, claimed_until=None,
            updated_at=now,
        )
    )  # fmt: skip
    params: list[dict[str, Any]] = [
        {
            "b_id": o.delivery_id, "b_state": o.state.value, "b_error": o.error[:MAX_ERROR], "b_due": o.due_at or now,
            "b_sent": now if o.state == DeliveryState.SENT else None,
        }
        for o in outcomes
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(statement, params)


def release(engine: Engine, worker: str, delivery_ids: Sequence[int]) -> None:
    """Give back claims not attempted (the lease ran short, the sender is stopping)."""
    if not delivery_ids:
        return
    with engine.begin() as connection:
        connection.execute(
            update(Delivery)
            .where(col(Delivery.id).in_(list(delivery_ids)), col(Delivery.claimed_by) == worker)
            .values(claimed_by=None, claimed_until=None)
        )


def _outgoing(connection: Connection, ids: list[int]) -> list[Outgoing]:
    if not ids:
        return []
    query = (
        select(
            col(Delivery.id),
            col(Notice.key),
            col(Notice.kind),
            col(Delivery.channel),
            col(Delivery.recipient),
            col(Notice.created_at),
            col(Notice.facts),
            col(Delivery.attempts),
        )
        .join(Notice, col(Notice.id) == col(Delivery.notice_id))
        .where(col(Delivery.id).in_(ids))
        .order_by(col(Delivery.due_at), col(Delivery.id))
    )
    return [
        Outgoing(id_ or 0, key, NoticeKind(kind), Channel(channel), recipient, created_at, json.loads(facts), attempts)
        for id_, key, kind, channel, recipient, created_at, facts, attempts in connection.execute(query)
    ]
