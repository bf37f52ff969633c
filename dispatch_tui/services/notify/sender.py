"""The sender: `dispatch notify run` (cron or a service) and the console's background worker.

One pass: make the reminders and running-late notices that are due (``scans``, once a minute), route new
notices to their channels (``routing``), then claim, send and record due deliveries in batches until none
is due (``claims``). A failed attempt is tried again after an exponential backoff with jitter (tenacity's
schedule: ``retry_initial_s`` × 2ⁿ, at most ``retry_max_s``, plus up to ``retry_initial_s`` of jitter),
and failed for good after ``max_attempts`` or at once when trying again cannot help.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
from tenacity import wait_exponential_jitter

from dispatch_tui.config import default_config_path
from dispatch_tui.domain import DeliveryState, NoticeKind
from dispatch_tui.notify_config import Channel
from dispatch_tui.services.notify import claims, routing, scans
from dispatch_tui.services.notify.claims import Outcome
from dispatch_tui.services.notify.outgoing import DeliveryError, Outgoing

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dispatch_tui.clock import Clock
    from dispatch_tui.config import Settings
    from dispatch_tui.services.notify.texts import Texts
    from dispatch_tui.services.planning.scheduling import Travel

BATCH = 100  # deliveries claimed and recorded at once: a sender killed mid-batch re-sends at most these
SCAN_EVERY = 60.0  # seconds between two looks for reminders and visits running late
CALENDAR_KINDS = (NoticeKind.CONFIRMATION, NoticeKind.RESCHEDULED)


@dataclass
class PassReport:
    """What one pass did; ``as_json``: docs/cli-json.md (notify run)."""

    made: int = 0  # reminders and running-late notices written
    routed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: PassReport) -> None:
        self.made += other.made
        self.routed += other.routed
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.errors += other.errors

    def as_json(self) -> dict[str, Any]:
        return {"made": self.made, "routed": self.routed, "sent": self.sent, "retrying": self.retrying,
                "failed": self.failed, "errors": self.errors}  # fmt: skip


class _Attempt:
    """What tenacity's wait strategies read of a retry: the attempt's number."""

    def __init__(self, attempt_number: int) -> None:
        self.attempt_number = attempt_number


class Sender:
    def __init__(self, engine: Engine, settings: Settings, clock: Clock, travel: Travel,
                 http: httpx.Client | None = None) -> None:  # fmt: skip
        from dispatch_tui.services.intake.customers import phone_region
        from dispatch_tui.services.notify.texts import Texts

        self.engine, self.settings, self.clock, self.travel = engine, settings, clock, travel
        self.notify = settings.notify
        self.region = phone_region(settings)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.http = http or httpx.Client(timeout=self.notify.timeout_s)
        templates = self.notify.templates_dir or default_config_path().parent / "templates"
        self.texts: Texts = Texts(templates, settings.zone, self.notify.company, self.notify.rating_url)
        self.backoff = wait_exponential_jitter(
            multiplier=self.notify.retry_initial_s, max=self.notify.retry_max_s, jitter=self.notify.retry_initial_s
        )
        self.lease = timedelta(seconds=self.notify.claim_s)
        self._scanned_at: float | None = None

    def close(self) -> None:
        self.http.close()

    def run(self, stop: threading.Event, on_pass: Callable[[PassReport], None] | None = None) -> PassReport:
        """Passes every ``poll_s`` until ``stop`` is set; returns what they did in all."""
        total = PassReport()
        while not stop.is_set():
            report = self.run_once(stop)
            total.add(report)
            if on_pass is not None:
                on_pass(report)
            stop.wait(self.notify.poll_s)
        return total

    def run_once(self, stop: threading.Event | None = None) -> PassReport:
        report = PassReport()
        if self._scanned_at is None or time.monotonic() - self._scanned_at >= SCAN_EVERY:
            report.made = self._scan()
            self._scanned_at = time.monotonic()
        report.routed = self._route()
        while stop is None or not stop.is_set():
            batch = claims.claim(self.engine, self.worker, self.clock.now(), self.lease, BATCH)
            if not batch:
                break
            self._send_batch(batch, report, stop)
        return report

    def _scan(self) -> int:
        from sqlmodel import Session

        with Session(self.engine) as session:
            claims.write_lock(session.connection())
            made = scans.make_due_notices(session, self.settings, self.clock.now(), self.travel)
            session.commit()
        return made

    def _route(self) -> int:
        from sqlmodel import Session

        routed = 0
        while True:
            with Session(self.engine) as session:
                claims.write_lock(session.connection())
                count = routing.route(session, self.notify, self.settings.zone, self.region, self.clock.now())
                session.commit()
            routed += count
            if count == 0:
                return routed

    def _send_batch(self, batch: list[Outgoing], report: PassReport, stop: threading.Event | None) -> None:
        # Send only while the claim surely holds: a slow server must not let a second sender take a row
        # this one is still sending.
        lease = self.lease.total_seconds()
        deadline = time.monotonic() + lease - min(self.notify.timeout_s + 5, lease / 2)
        outcomes: list[Outcome] = []
        left: list[int] = []
        for outgoing in batch:
            if time.monotonic() > deadline or (stop is not None and stop.is_set()):
                left.append(outgoing.delivery_id)
                continue
            outcome = self._attempt(outgoing)
            outcomes.append(outcome)
            if outcome.state == DeliveryState.SENT:
                report.sent += 1
            elif outcome.state == DeliveryState.FAILED:
                report.failed += 1
                report.errors.append(f"{outgoing.key} ({outgoing.channel}): {outcome.error}")
            else:
                report.retrying += 1
        claims.finish(self.engine, self.worker, outcomes, self.clock.now())
        claims.release(self.engine, self.worker, left)

    def _attempt(self, outgoing: Outgoing) -> Outcome:
        try:
            self._deliver(outgoing)
        except DeliveryError as error:
            attempt = outgoing.attempts + 1
            if error.permanent or attempt >= self.notify.max_attempts:
                why = str(error) if error.permanent else f"{error} (attempt {attempt} of {self.notify.max_attempts})"
                return Outcome(outgoing.delivery_id, DeliveryState.FAILED, why)
            wait = timedelta(seconds=self.backoff(_Attempt(attempt)))  # type: ignore[arg-type]
            return Outcome(outgoing.delivery_id, DeliveryState.PENDING, str(error), self.clock.now() + wait)
        except Exception as error:  # noqa: BLE001 - one message's fault must not stop the others being sent
            return Outcome(outgoing.delivery_id, DeliveryState.FAILED, f"not sent: {type(error).__name__}: {error}")
        return Outcome(outgoing.delivery_id, DeliveryState.SENT)

    def _deliver(self, outgoing: Outgoing) -> None:
        from dispatch_tui.services.notify import channels

        rendered = self.texts.render(outgoing)
        now = self.clock.now()
        if outgoing.channel == Channel.EMAIL:
            ics = None
            if outgoing.kind in CALENDAR_KINDS:
                ics = channels.confirmation_ics(outgoing.facts, self.settings.zone, self.notify.company, now)
            channels.send_email(outgoing, rendered, self.notify, ics)
        elif outgoing.channel == Channel.SMS:
            channels.send_sms(outgoing, rendered, self.notify, self.http, now)
        else:
            if not self.notify.webhook_url:
                raise DeliveryError("the webhook is not set up any more (notify.webhook_url)", permanent=True)
            to_office = replace(outgoing, recipient=self.notify.webhook_url)
            channels.send_webhook(to_office, rendered, self.notify, self.http, now)
