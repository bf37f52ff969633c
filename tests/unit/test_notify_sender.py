"""The sender against real peers on 127.0.0.1 (a mail server, the office's webhook receiver that checks
signatures, an SMS gateway): what arrives, retries and dead letters, opt-outs and quiet hours, and two
senders at once; on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.clock import Clock
from dispatch_tui.domain import NoticeKind
from dispatch_tui.services.notify import outbox, routing
from dispatch_tui.services.notify.sender import Sender
from dispatch_tui.store.models import Job
from tests.clock import DAY, NOW, ZONE
from tests.conftest import db_arg
from tests.notify_peers import SmtpServer, WebhookReceiver
from tests.unit import notifydata
from tests.unit.workdata import at

SECRET, TOKEN = "office-hook-secret", "gateway-token"


@dataclass
class Peers:
    smtp: SmtpServer
    hook: WebhookReceiver
    sms: WebhookReceiver

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {
            "smtp_host": self.smtp.host, "smtp_port": self.smtp.port, "smtp_security": "none",
            "email_from": "Acme Heating <service@acme.test>", "company": "Acme Heating",
            "webhook_url": self.hook.url, "webhook_secret": SECRET,
            "sms_url": self.sms.url, "sms_secret": SECRET, "sms_token": TOKEN,
            "retry_initial_s": 30, "retry_max_s": 600,
        } | extra  # fmt: skip


@pytest.fixture
def peers() -> Iterator[Peers]:
    with SmtpServer() as smtp, WebhookReceiver(SECRET) as hook, WebhookReceiver(SECRET, token=TOKEN) as sms:
        yield Peers(smtp, hook, sms)


@pytest.fixture
def store(store_engine: Engine) -> Engine:
    """The store on SQLite (immediate transactions) and on PostgreSQL (FOR UPDATE SKIP LOCKED)."""
    return notifydata.load(store_engine)


def later(sender: Sender, by: timedelta) -> None:
    """Move the sender's frozen clock on by ``by``."""
    sender.clock = Clock.at(sender.clock.now() + by, frozen=True)


def test_a_booking_s_confirmation_arrives_by_email_with_its_calendar_by_sms_and_at_the_office(
    store: Engine, peers: Peers
) -> None:
    core = notifydata.core(store, **peers.settings())
    core.book("R1", at("09:30", DAY))
    sender = core.sender()
    report = sender.run_once()
    sender.close()
    assert (report.sent, report.failed) == (3, 0)
    (mail,) = peers.smtp.messages
    assert mail.rcpt_tos == ["claire@example.test"]
    assert "R1" in mail.message["Subject"]
    (attachment,) = [part for part in mail.message.iter_attachments() if part.get_content_type() == "text/calendar"]
    (event,) = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert event.decoded("dtstart") == at("09:30", DAY)
    (text,) = peers.sms.deliveries
    assert text.payload["to"] == "+33612345678" and "09:30" in text.payload["text"]
    (hook,) = peers.hook.deliveries  # accepted: the receiver verified its signature
    key = hook.headers["idempotency-key"]
    assert key.startswith("R1:confirmation:") and hook.payload["id"] == key
    assert mail.message["X-Dispatch-Idempotency-Key"] == key == text.payload["idempotency_key"]
    assert {row.state for row in core.messages(job_ref="R1")} == {"sent"}


def test_en_route_carries_the_expected_arrival(
    store: Engine, peers: Peers, set_clock: Callable[[datetime], None]
) -> None:
    notifydata.core(store).assign("R1", "T1", at("09:30", DAY))
    set_clock(at("09:00", DAY))
    core = notifydata.core(store, **peers.settings(channels=["sms"]))
    core.set_status("R1", "dispatched", at("08:30", DAY))
    core.set_status("R1", "en_route")
    sender = core.sender()
    sender.run_once()
    sender.close()
    (route,) = [d for d in peers.sms.deliveries if d.payload["idempotency_key"].startswith("R1:en_route:")]
    drive = core.job_detail("R1").travel_minutes  # type: ignore[union-attr]
    eta = (at("09:00", DAY) + timedelta(minutes=drive or 0)).astimezone(ZONE)
    assert f"{eta:%H:%M}" in route.payload["text"]


def test_a_receiver_down_for_a_while_gets_the_message_later_once(store: Engine, peers: Peers) -> None:
    office = peers.hook.url + "?token=t0k3n"  # a receiver that wants a token in its URL
    core = notifydata.core(store, **peers.settings(channels=[], webhook_url=office))  # the office's webhook only
    core.book("R2", at("13:00", DAY))
    peers.hook.fail_next(2)
    sender = core.sender()
    assert sender.run_once().retrying == 1
    assert sender.run_once().sent == 0  # not due again yet: backoff
    later(sender, timedelta(seconds=61))  # past the first wait (30 s + up to 30 s of jitter)
    assert sender.run_once().retrying == 1  # the second failure: waits up to 60 + 30 s
    later(sender, timedelta(seconds=91))
    assert sender.run_once().sent == 1
    sender.close()
    assert list(peers.hook.counts().values()) == [1]
    (row,) = core.messages(job_ref="R2")
    assert (row.state, row.attempts) == ("sent", 3)
    assert row.recipient == peers.hook.url  # listed without its token…
    assert peers.hook.deliveries[0].path.endswith("?token=t0k3n")  # …which the receiver was sent


def test_a_receiver_always_down_fails_the_message_after_the_last_attempt_with_its_error(
    store: Engine, peers: Peers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    core = notifydata.core(store, **peers.settings(channels=[], max_attempts=3))
    core.book("R2", at("13:00", DAY))
    peers.hook.down()
    sender = core.sender()
    for _ in range(2):
        assert sender.run_once().retrying == 1
        later(sender, timedelta(hours=1))
    assert sender.run_once().failed == 1
    sender.close()
    assert peers.hook.deliveries == []
    config = notifydata.config_file(tmp_path, peers.settings(channels=[], max_attempts=3))
    monkeypatch.setenv("DISPATCH_CONFIG", str(config))
    listed = CliRunner().invoke(app, ["--db", db_arg(store), "notify", "list", "--state", "failed", "--json"])
    (failed,) = json.loads(listed.stdout)
    assert failed["job_ref"] == "R2" and failed["attempts"] == 3 and "503" in failed["last_error"]
    assert "attempt 3 of 3" in failed["last_error"]
    peers.hook.up()
    retried = CliRunner().invoke(app, ["--db", db_arg(store), "notify", "retry", str(failed["id"])])
    assert retried.exit_code == 0, retried.output
    again = CliRunner().invoke(app, ["--db", db_arg(store), "notify", "run", "--once", "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["sent"] == 1
    refused = CliRunner().invoke(app, ["--db", db_arg(store), "notify", "retry", str(failed["id"])])
    assert refused.exit_code == 3 and "delivered" in refused.stderr


def test_an_opt_out_is_honoured_and_quiet_hours_hold_all_but_live_news(
    store: Engine, peers: Peers, set_clock: Callable[[datetime], None]
) -> None:
    set_clock(NOW - timedelta(days=1))  # planned the day before (by the nightly optimizer, say)
    planner = notifydata.core(store)
    planner.assign("R1", "T1", at("09:30", DAY))
    planner.assign("R3", "T1", at("14:00", DAY))
    planner.set_contact("C1", channels=None, opt_out=["reminder"])
    set_clock(NOW + timedelta(hours=4))  # 22:00 the evening before the visits: in the quiet hours
    with Session(store) as session:  # live news in the quiet hours goes at once
        outbox.write(session, session.exec(select(Job).where(Job.ref == "R3")).one(), NoticeKind.EN_ROUTE, 99)
        session.commit()
    core = notifydata.core(store, **peers.settings(channels=["email"]))
    sender = core.sender()
    sender.run_once()
    assert len(peers.hook.deliveries) == 5  # the office hears of everything at once…
    assert [m.rcpt_tos for m in peers.smtp.messages] == [["noor@example.test"]]  # …the customer of en route only
    waiting = {(row.job_ref, row.kind): row for row in core.messages() if row.state == "pending"}
    assert set(waiting) == {("R1", "confirmation"), ("R3", "confirmation"), ("R3", "reminder")}
    assert {row.due_at for row in waiting.values()} == {at("08:00", DAY)}  # held until the quiet hours end
    (skipped,) = [row for row in core.messages() if row.state == "skipped"]
    assert (skipped.job_ref, skipped.kind) == ("R1", "reminder") and "opted out of reminder" in skipped.last_error
    sender.clock = Clock.at(at("08:00", DAY), frozen=True)
    assert sender.run_once().sent == 3
    sender.close()
    sent = [m.rcpt_tos for m in peers.smtp.messages if ":reminder:" in m.message["X-Dispatch-Idempotency-Key"]]
    assert sent == [["noor@example.test"]]


def test_two_senders_at_once_never_send_a_message_twice(store: Engine, peers: Peers) -> None:
    core = notifydata.core(store, **peers.settings(channels=[]))
    with Session(store) as session:
        jobs = session.exec(select(Job)).all()
        for job in jobs:
            for version in range(1, 121):
                outbox.write(session, job, NoticeKind.REMINDER, version)
        session.commit()
    with Session(store) as session:  # routed beforehand, so that both senders find work at once
        routing.route(session, core.settings.notify, ZONE, None, NOW, limit=1000)
        session.commit()
    peers.hook.delay_s = 0.002  # a receiver slow enough for the two senders' batches to interleave
    senders = [core.sender(), core.sender()]
    reports = []
    threads = [threading.Thread(target=lambda s=s: reports.append(s.run_once())) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for sender in senders:
        sender.close()
    counts = peers.hook.counts()
    assert len(counts) == 360 and set(counts.values()) == {1}
    assert peers.hook.overlaps == 0
    assert sum(r.sent for r in reports) == 360 and all(r.sent for r in reports)  # both took part
