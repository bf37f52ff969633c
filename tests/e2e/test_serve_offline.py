"""`dispatch serve` works with no internet access: the page and everything it loads come from the server
itself (the font included), and the links it gives browsers name the address they reach it by."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.test_serve_browser import answers, chromium, free_port, wait_until  # noqa: F401 (fixture)
from tests.e2e.test_tui_tmux import DISPATCH

LINK = re.compile(r"""(?:href|src)\s*=\s*"([^"]+)"|url\(\s*["']?([^"')]+)""")


@pytest.fixture
def store(tmp_path: Path) -> Path:
    db = tmp_path / "demo.db"
    built = subprocess.run([DISPATCH, "demo", "--db", str(db), "--technicians", "3", "--requests", "6"],
                           capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert built.returncode == 0, built.stderr
    return db


@contextmanager
def serving(db: Path, *extra: str) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen([DISPATCH, "--db", str(db), "serve", "--port", str(port), *extra],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until(lambda: answers(url) or server.poll() is not None, 30, "the server to answer")
        assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def page_links(url: str) -> list[str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        html = response.read().decode()
    links = [a or b for a, b in LINK.findall(html)]
    # The SVG namespace is a name, not a request.
    return [link for link in links if link != "http://www.w3.org/2000/svg"]


def test_the_page_loads_nothing_from_outside_the_server(store: Path) -> None:
    with serving(store) as url:
        links = page_links(url)
        assert any(link.endswith(".ttf") for link in links), links  # the font is served, not fetched
        assert links and all(link.startswith(url) for link in links), links


def test_links_name_the_public_address_given(store: Path) -> None:
    with serving(store, "--public-url", "https://dispatch.example.com/") as url:
        links = page_links(url)
        assert links and all(link.startswith("https://dispatch.example.com/static/") for link in links), links
        with urllib.request.urlopen(url, timeout=5) as response:
            assert 'data-session-websocket-url="wss://dispatch.example.com/ws"' in response.read().decode()


def test_the_console_renders_in_a_browser_that_reaches_only_the_server(store: Path, chromium: str) -> None:  # noqa: F811
    from playwright.sync_api import Route, sync_playwright

    with serving(store) as url:
        own = urlsplit(url).netloc
        outside: list[str] = []

        def only_the_server(route: Route) -> None:
            if urlsplit(route.request.url).netloc == own:
                route.continue_()
            else:  # as on a machine with no internet access
                outside.append(route.request.url)
                route.abort()

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 800})
                page.route("**/*", only_the_server)
                page.goto(url)
                page.wait_for_selector("body.-first-byte", timeout=30_000)  # the console's first output
                page.wait_for_selector("canvas.xterm-text-layer", timeout=10_000)
                # check() is true for a font nobody declared: count the faces actually loaded instead.
                fonts_loaded = page.evaluate(
                    "async () => { await document.fonts.load(\"16px 'Roboto Mono'\"); await document.fonts.ready;"
                    " return [...document.fonts].filter(f => f.family.includes('Roboto Mono')"
                    " && f.status === 'loaded').length; }"
                )
            finally:
                browser.close()
        assert outside == []
        assert fonts_loaded >= 1  # the terminal draws in the served font, not a fallback
