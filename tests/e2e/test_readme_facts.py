"""What the README tells a user holds: the way it gives to reach `dispatch` works in a fresh shell, and
the billing export's columns are the ones it lists, its notify settings are read, and its webhook
verification code accepts what dispatch signs."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from dispatch_tui.notify_config import Channel, NotifySettings
from dispatch_tui.services.billing.invoicing import COLUMNS
from dispatch_tui.services.notify.channels import sign

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end]


def test_the_quick_tour_says_how_to_reach_dispatch_and_that_way_works_in_a_fresh_shell() -> None:
    tour = section("Quick tour")
    activate = re.search(r"\(`(\. \.venv/bin/activate)`\)", tour)
    assert activate, "the Quick tour must say how to put `dispatch` on the PATH"
    venv = Path(sys.executable).parent.parent  # the suite runs in the environment `make` installs
    # A login-free shell that knows nothing of this one: only the system's PATH, no virtual environment.
    script = activate.group(1).replace(".venv", str(venv)) + " && dispatch --help"
    done = subprocess.run(["bash", "--noprofile", "--norc", "-c", script], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(REPO)}, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Usage: dispatch" in done.stdout
    assert "`.venv/bin/dispatch`" in tour


def test_the_billing_columns_listed_are_the_exports_columns_in_order() -> None:
    listed = re.search(r"with the columns\n`([^`]+)`", section("From visit to invoice"))
    assert listed, "the billing paragraph lists its columns"
    assert [c.strip() for c in listed.group(1).split(",")] == list(COLUMNS)


def test_the_notify_settings_shown_are_settings_dispatch_reads() -> None:
    (example,) = re.findall(r"```toml\n(.*?)```", section("Telling the customer"), re.S)
    table = tomllib.loads(example)["notify"]
    settings = NotifySettings(**table)
    assert Channel.EMAIL in settings.configured() and Channel.WEBHOOK in settings.configured()


def test_the_readmes_verification_accepts_what_dispatch_signs_and_refuses_a_replay_or_a_change() -> None:
    (code,) = re.findall(r"```python\n(.*?)```", section("Telling the customer"), re.S)
    scope: dict[str, Any] = {}
    exec(code, scope)  # the README's own receiver code, as a user would paste it
    verified = scope["verified"]
    body = b'{"id":"R1:en_route:3","kind":"en_route"}'
    stamp = int(time.time())

    def headers(at: int, payload: bytes) -> dict[str, str]:
        return {"x-dispatch-timestamp": str(at), "x-dispatch-signature": sign("s3cret", at, payload)}

    assert verified("s3cret", headers(stamp, body), body)
    assert not verified("s3cret", headers(stamp - 301, body), body)  # a replay, five minutes on
    assert not verified("s3cret", headers(stamp, body), body.replace(b"3", b"4"))  # a changed body
    assert not verified("other", headers(stamp, body), body)
