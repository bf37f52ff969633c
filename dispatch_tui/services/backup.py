"""Backing up and restoring an SQLite store with SQLite's online backup API.

The backup API copies the database page by page under SQLite's own locking: a backup taken while
consoles read and the CLI writes is a consistent snapshot of committed data, and a restore into a
store in use is seen by other connections either wholly or not at all. A backup is written to a
temporary file beside the target and renamed into place, so a failed backup never leaves a
half-written file under the name a script will later restore from. PostgreSQL stores are backed up
with the server's own tools (``pg_dump``); ``server_backup_advice`` says how.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from dispatch_tui.store.schema import MIGRATIONS_DIR


class BadBackup(Exception):
    """The file is not a dispatch store this version can restore."""


@dataclass(frozen=True)
class StoreSummary:
    revision: str
    jobs: int
    technicians: int
    size_bytes: int


def sqlite_path(db_url: str) -> Path | None:
    """The file of an SQLite store URL; None for a server store."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _read_only(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"


def known_revisions() -> set[str]:
    return {path.name.split("_", 1)[0] for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py")}


def summarise(path: Path) -> StoreSummary:
    """What a store file holds, after checking it is an intact dispatch store (read-only)."""
    try:
        connection = sqlite3.connect(_read_only(path), uri=True)
    except sqlite3.Error as exc:
        raise BadBackup(f"{path} cannot be opened as an SQLite database: {exc}") from None
    try:
        integrity = connection.execute("PRAGMA quick_check").fetchone()[0]
        if integrity != "ok":
            raise BadBackup(f"{path} is damaged: {integrity}")
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "alembic_version" not in tables or "job" not in tables:
            raise BadBackup(f"{path} is an SQLite database but not a dispatch store (no dispatch schema)")
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        if revision is None or revision[0] not in known_revisions():
            found = revision[0] if revision else "none"
            raise BadBackup(f"{path} is at schema revision {found}, which this version of dispatch does not know")
        jobs = connection.execute("SELECT COUNT(*) FROM job").fetchone()[0]
        technicians = connection.execute("SELECT COUNT(*) FROM technician").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BadBackup(f"{path} is not an SQLite database: {exc}") from None
    finally:
        connection.close()
    return StoreSummary(revision[0], jobs, technicians, path.stat().st_size)


def backup(store: Path, target: Path) -> StoreSummary:
    """Copy the store to ``target`` (replaced if it exists) as a consistent snapshot."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    source = sqlite3.connect(_read_only(store), uri=True)
    try:
        destination = sqlite3.connect(partial)
        try:
            source.backup(destination)
            destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            destination.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    os.replace(partial, target)
    return summarise(target)


def restore(source: Path, store: Path, checked: StoreSummary | None = None) -> StoreSummary:
    """Replace the store's whole content with the backup's, after checking the backup (``checked``: the
    caller's own ``summarise(source)`` of it, so that a large file is not read through twice)."""
    summary = checked or summarise(source)
    backup_connection = sqlite3.connect(_read_only(source), uri=True)
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        live = sqlite3.connect(store, timeout=30)
        try:
            backup_connection.backup(live)
        finally:
            live.close()
    finally:
        backup_connection.close()
    return summary


def server_backup_advice(db_url: str) -> str:
    url = make_url(db_url).set(drivername="postgresql")
    target = url.render_as_string(hide_password=True)
    return (
        f"a server store is backed up with the server's tools: pg_dump --format=custom --file=BACKUP '{target}' "
        f"and restored with pg_restore --clean --if-exists --dbname='{target}' BACKUP"
    )
