"""`dispatch serve` in a real browser (Debian's headless chromium driven by Playwright, no browser
download): the console loads, keys typed in the page assign a job, and the store shows it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clock import DAY
from tests.conftest import in_ci
from tests.e2e.test_tui_tmux import DISPATCH, first_assignable_row, scheduled

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def chromium() -> str:
    """Debian's chromium: where it is missing the test is skipped, saying so, except in CI (``.ci/run``
    installs it), where a skip would hide that the browser half of the product went untested."""
    if CHROMIUM is None:
        reason = "Debian's chromium is not installed (apt-get install chromium)"
        if in_ci():
            pytest.fail(f"{reason}: CI must run the browser test")
        pytest.skip(f"{reason}: browser test skipped")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_the_console_in_a_browser_assigns_with_a_then_enter(tmp_path: Path, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    db = tmp_path / "demo.db"
    config = tmp_path / "empty.toml"  # an empty settings file: no developer's own (a missing one is refused)
    config.touch()
    env = {**os.environ, "DISPATCH_TIMEZONE": "Europe/Paris", "DISPATCH_CONFIG": str(config)}
    # DAY: tomorrow on the suite's clock (DISPATCH_NOW), which the server and each tab's console inherit.
    built = subprocess.run([DISPATCH, "demo", "--db", str(db), "--date", DAY.isoformat()], env=env,
                           capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert built.returncode == 0, built.stderr
    before, row = scheduled(db), first_assignable_row(db)
    port = free_port()
    server = subprocess.Popen([DISPATCH, "--db", str(db), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until(lambda: answers(url) or server.poll() is not None, 30, "the server to answer")
        assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(url)
                page.wait_for_selector("body.-first-byte", timeout=30_000)  # the console's first output
                page.wait_for_selector("canvas.xterm-text-layer", timeout=10_000)
                time.sleep(3)  # the board's first load (a worker) after the first frame
                page.screenshot(path=str(tmp_path / "board.png"))
                page.locator(".xterm-helper-textarea").focus()
                for _ in range(row):
                    page.keyboard.press("j")
                page.keyboard.press("a")
                time.sleep(3)  # the Assign dialog ranks candidates in a worker
                page.keyboard.press("Enter")
                wait_until(lambda: scheduled(db) == before + 1, 20, "the job to be scheduled in the store")
                page.screenshot(path=str(tmp_path / "assigned.png"))
            finally:
                browser.close()
        assert (tmp_path / "board.png").stat().st_size > 10_000  # a rendered board, not a blank page
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and every console it started
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert scheduled(db) == before + 1
