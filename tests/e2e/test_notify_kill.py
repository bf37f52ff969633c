"""The sender killed (SIGKILL) at 20 random moments, and started again each time: every message is
delivered at least once, each event under its one idempotency key, none lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from dispatch_tui.domain import NoticeKind
from dispatch_tui.services.notify import outbox
from dispatch_tui.store.models import Delivery, Job, Notice
from tests.conftest import db_arg
from tests.notify_peers import WebhookReceiver
from tests.unit import notifydata

SECRET = "kill-test-secret"
KILLS = 20
CLAIM_S = 2  # a killed sender's claims are taken over after this


def test_a_sender_killed_at_twenty_moments_loses_nothing_and_repeats_only_the_same_key(
    engine: Engine, tmp_path: Path
) -> None:
    store = notifydata.load(engine)
    with Session(store) as session:
        for job in session.exec(select(Job)).all():
            for version in range(1, 401):  # 1,200 messages: sending outlasts most of the kills
                outbox.write(session, job, random.choice(list(NoticeKind)), version)
        session.commit()
        rows = session.exec(select(Job.ref, Notice).join(Notice, col(Notice.job_id) == col(Job.id))).all()
        events = {(ref, n.kind, n.job_version): n.key for ref, n in rows}
    config = notifydata.config_file(tmp_path, {"channels": [], "webhook_secret": SECRET, "poll_s": 0.2,
                                               "claim_s": CLAIM_S, "webhook_url": "set below"})  # fmt: skip
    rng = random.Random(20261204)
    # The senders run on the real clock (a frozen one would never let a claim run out), so the receiver does too.
    with WebhookReceiver(SECRET, now=lambda: datetime.now(UTC)) as hook:
        hook.delay_s = 0.005
        config.write_text(config.read_text().replace('"set below"', f'"{hook.url}"'))
        env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCH_NOW")}
        env["DISPATCH_CONFIG"] = str(config)
        command = [sys.executable, "-m", "cli", "--db", db_arg(store), "notify", "run"]
        for _ in range(KILLS):
            sender = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(rng.uniform(1.1, 2.0))  # it starts up in about a second, then sends
            sender.send_signal(signal.SIGKILL)
            sender.wait(timeout=10)
        before_last = sum(hook.counts().values())
        time.sleep(CLAIM_S + 0.5)  # the last one's claims run out
        last = subprocess.run([*command, "--once"], env=env, capture_output=True, text=True, timeout=120, check=False)
        assert last.returncode == 0, last.stderr
        received = hook.counts()
        # What each copy was about, from its body, against the key it came with.
        keys_by_event: dict[tuple[str, str, int], set[str]] = {}
        for copy in hook.deliveries:
            event = (copy.payload["job_ref"], copy.payload["kind"], copy.payload["facts"]["version"])
            keys_by_event.setdefault(event, set()).add(copy.headers["idempotency-key"])
        assert hook.refusals == []
    assert set(received) == set(events.values())  # every event delivered at least once…
    # …each under its one key, however often it was sent:
    assert keys_by_event == {event: {key} for event, key in events.items()}
    assert sum(received.values()) > len(events)  # kills landed between a send and its record: repeats…
    assert before_last > len(events) / 2  # …while the killed senders did most of the work
    with Session(store) as session:
        states = Counter(session.exec(select(Delivery.state)).all())
        assert states == {"sent": len(events)}
        assert session.exec(select(Notice).where(col(Notice.routed_at).is_(None))).all() == []
