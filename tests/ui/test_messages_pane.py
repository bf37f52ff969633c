"""Issue 15, telling the customer, in the console: the Status pane lists what a job's customer was told,
a failed message is an alert like the others, and with ``notify.console_sender`` the console sends the
outbox itself. The messages are real: a job booked through the core, sent by the real sender to a mail
server and the office's webhook receiver on 127.0.0.1 (tests/notify_peers.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Group
from rich.text import Text
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from textual.widgets import Static

from dispatch_tui.domain import AlertKind, JobStatus
from dispatch_tui.localtime import local_moment
from dispatch_tui.services.core import Core
from dispatch_tui.store.models import Customer, Job
from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.sending import WORKER_GROUP
from tests.clock import DAY, ZONE
from tests.notify_peers import SmtpServer, WebhookReceiver
from tests.ui.conftest import NOON
from tests.ui.helpers import settle, until
from tests.ui.test_board_keys import select_block
from tests.unit.test_billing import dispatch

AppFactory = Callable[..., DispatchApp]
SECRET = "office-hook-key"
REFUSED = "550 5.1.1 No such mailbox here"


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as receiver:
        yield receiver


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def channels(hook: WebhookReceiver, smtp: SmtpServer, **more: Any) -> dict[str, Any]:
    """The [notify] settings: email through ``smtp``, every message to the office's ``hook``; no SMS gateway."""
    return {"webhook_url": hook.url, "webhook_secret": SECRET, "smtp_host": smtp.host, "smtp_port": smtp.port,
            "smtp_security": "none", "email_from": "Acme <service@acme.example>", **more}  # fmt: skip


def book_a_request(core: Core) -> str:
    """The first waiting request with a time to offer, booked on today's board (its confirmation written)."""
    for row in core.board(DAY).requests:
        offer = core.slots(row.ref, day=DAY)
        if offer.slots:
            booking = core.book(row.ref, offer.slots[0].start)
            assert booking.technician_ref is not None, "placed on someone's day"
            return row.ref
    raise AssertionError("no waiting request can be booked today")


def customer_email(engine: Engine, ref: str) -> str:
    with Session(engine) as session:
        email = session.exec(select(Customer.email).join(Job, col(Job.customer_id) == col(Customer.id))
                             .where(Job.ref == ref)).one()  # fmt: skip
    assert email, f"{ref}'s customer has an email address"
    return email


def run_a_pass(core: Core) -> None:
    """One `dispatch notify run` pass, as another process would make it."""
    sender = core.sender()
    try:
        sender.run_once()
    finally:
        sender.close()


def pane_lines(app: DispatchApp) -> list[str]:
    """The Status pane's lines of text, as shown (the table of facts left out)."""
    body = app.board_screen.query_one("#status-body", Static).content
    if isinstance(body, Text):
        return [body.plain]
    assert isinstance(body, Group)
    return [part.plain for part in body.renderables if isinstance(part, Text)]


def refusal(smtp: SmtpServer, email: str) -> str:
    return f"mail server {smtp.host}:{smtp.port} refused the recipient {email}: {REFUSED}"


async def test_the_status_pane_lists_the_jobs_messages_and_a_failed_one_is_an_alert(
    demo: Engine, make_app: AppFactory, hook: WebhookReceiver, smtp: SmtpServer
) -> None:
    app = make_app(notify=channels(hook, smtp))
    ref = book_a_request(app.backend)
    email = customer_email(demo, ref)
    smtp.refuse(email)
    alert = f"{ref}: the confirmation message by email to {email} failed: {refusal(smtp, email)}"
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await select_block(pilot, ref)
        assert "messages" not in pane_lines(app), "nothing was sent yet"
        await asyncio.to_thread(run_a_pass, app.backend)  # the office's own sender, beside the console
        # The failed message changes the board: the console reloads and says it, as it says every new alert.
        await until(pilot, lambda: any(n.message == alert for n in app._notifications))
        await until(pilot, lambda: "messages" in pane_lines(app))
        lines = pane_lines(app)
        webhook, sms, mail = lines[lines.index("messages") + 1 : lines.index("audit trail")]  # newest first
        assert webhook == f"  confirmation by webhook to {hook.url}: sent {local_moment(NOON, ZONE)}"
        assert sms.startswith("  confirmation by sms to +33")  # the customer's phone, as sent: E.164
        assert sms.endswith(": skipped: no SMS gateway is set (notify.sms_url)"), "not sent, and why"
        assert mail == f"  confirmation by email to {email}: failed: {refusal(smtp, email)}"
        assert f"! {alert}" in lines, "the job's own alerts head the pane"
        assert [h.payload["job_ref"] for h in hook.deliveries] == [ref]


async def test_the_console_sends_the_outbox_itself_when_told_to_and_says_what_failed(
    demo: Engine, make_app: AppFactory, hook: WebhookReceiver, smtp: SmtpServer
) -> None:
    app = make_app(notify=channels(hook, smtp, console_sender=True, poll_s=0.2))
    ref = book_a_request(app.backend)
    email = customer_email(demo, ref)
    smtp.refuse(email)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: len(hook.deliveries) == 1, timeout=10)
        assert hook.deliveries[0].payload["job_ref"] == ref
        await until(pilot, lambda: any(n.title == "1 message(s) to customers failed" for n in app._notifications))
        failure = next(n for n in app._notifications if n.title == "1 message(s) to customers failed")
        assert failure.message.startswith(f"{ref}:confirmation:") and failure.severity == "error"
        assert failure.message.endswith(f"(email): {refusal(smtp, email)}")
        await settle(pilot)
        await select_block(pilot, ref)
        await until(pilot, lambda: any(line.startswith("  confirmation by webhook") for line in pane_lines(app)))
        assert f"  confirmation by webhook to {hook.url}: sent {local_moment(NOON, ZONE)}" in pane_lines(app)
        board = app.board_screen.board
        assert board is not None and (AlertKind.MESSAGE_FAILED, ref) in board.alert_keys()
        await pilot.pause(1.0)  # five more passes: nothing is sent twice
        assert list(hook.counts().values()) == [1]
        assert len(smtp.messages) == 0
        assert app.console_sender is not None and app.console_sender.open
    assert not app.console_sender.open, "closed with the console"


async def test_without_console_sender_the_console_sends_nothing(
    demo: Engine, make_app: AppFactory, hook: WebhookReceiver, smtp: SmtpServer
) -> None:
    app = make_app(notify=channels(hook, smtp, poll_s=0.2))  # console_sender left as it comes: off
    ref = book_a_request(app.backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.pause(1.0)
        assert app.console_sender is None
        assert not [worker for worker in app.workers if worker.group == WORKER_GROUP]
        assert hook.deliveries == [] and smtp.messages == []
        assert app.backend.messages(job_ref=ref) == [], "the confirmation waits in the outbox, unrouted"


def test_a_failed_message_stays_an_alert_for_two_days_after_the_job_and_through_a_patch(
    demo: Engine, make_app: AppFactory, hook: WebhookReceiver, smtp: SmtpServer
) -> None:
    core = make_app(notify=channels(hook, smtp)).backend
    ref = book_a_request(core)
    smtp.refuse(customer_email(demo, ref))
    run_a_pass(core)
    key = (AlertKind.MESSAGE_FAILED, ref)
    board = core.board(DAY)
    assert key in board.alert_keys()
    tech = next(row.tech_ref for row in board.grid.rows if any(b.job_ref == ref for b in row.blocks))
    others = [b.job_ref for row in board.grid.rows if row.tech_ref == tech for b in row.blocks if b.job_ref != ref]
    assert others, "the technician has another visit that day"
    # A write on another visit of the same technician reads back that day: the job's failed message stays.
    assert key in board.patched(core.patch(DAY, "", others[:1], [tech])).alert_keys()

    def finished(ago: timedelta) -> set[tuple[AlertKind, str]]:
        with Session(demo) as session:
            session.execute(update(Job).where(col(Job.ref) == ref)
                            .values(status=JobStatus.COMPLETED.value, updated_at=NOON - ago))  # fmt: skip
            session.commit()
        return core.board(DAY).alert_keys()

    assert key in finished(timedelta(days=1))
    assert key not in finished(timedelta(days=3))


def test_jobs_show_prints_the_messages_as_the_pane_does(
    demo: Engine, db_path: Path, make_app: AppFactory, hook: WebhookReceiver, smtp: SmtpServer
) -> None:
    core = make_app(notify=channels(hook, smtp)).backend
    ref = book_a_request(core)
    email = customer_email(demo, ref)
    smtp.refuse(email)
    run_a_pass(core)
    code, out, err = dispatch(db_path, "jobs", "show", ref)
    assert code == 0, err
    words = " ".join(out.split())  # as read, whatever the terminal's width wrapped
    told = words[words.index("messages") : words.index("audit trail")]
    assert told.startswith(f"messages confirmation by webhook to {hook.url}: sent {local_moment(NOON, ZONE)}")
    assert told.endswith(f"confirmation by email to {email}: failed: {refusal(smtp, email)} ")
