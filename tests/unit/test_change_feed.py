"""The change feed: quiet while nobody writes, "look again" once another connection commits."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, text

from dispatch_tui.services.change_feed import open_feed
from dispatch_tui.store import make_engine


def commit_later(url: str, statement: str, after_s: float = 0.2) -> threading.Thread:
    def write() -> None:
        time.sleep(after_s)
        other = make_engine(url)
        try:
            with other.begin() as connection:
                connection.execute(text(statement))
        finally:
            other.dispose()

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def check_feed(engine: Engine, url: str, statement: str) -> None:
    feed = open_feed(engine)
    try:
        assert feed.wait(0.3) is False  # nothing written: no reload
        writer = commit_later(url, statement)
        started = time.monotonic()
        assert feed.wait(3.0) is True
        assert time.monotonic() - started < 1.0
        writer.join()
        assert feed.wait(0.3) is False  # heard once, not again
    finally:
        feed.close()


def test_sqlite_feed_hears_another_connections_commit(engine: Engine) -> None:
    # A write that changes nothing (DELETE of no rows) commits nothing SQLite can see: a real one.
    check_feed(engine, engine.url.render_as_string(hide_password=False), "INSERT INTO skill (name) VALUES ('x')")


def test_sqlite_feed_ignores_reads(engine: Engine) -> None:
    feed = open_feed(engine)
    try:
        commit_later(engine.url.render_as_string(hide_password=False), "SELECT count(*) FROM job", after_s=0).join()
        assert feed.wait(0.3) is False
    finally:
        feed.close()
