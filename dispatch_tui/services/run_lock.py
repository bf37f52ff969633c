"""One optimizer run at a time per store: an exclusive, non-blocking file lock.

The lock file sits beside an SQLite store; for a server store it is in the user's runtime directory,
keyed by the URL (which only serialises runs from this machine: a PostgreSQL advisory lock is the
follow-up for teams that run the optimizer from several machines). The operating system releases the
lock when the process dies, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from platformdirs import user_runtime_dir


class Busy(Exception):
    """Another run holds the lock."""


def lock_path(db_url: str, name: str) -> Path:
    if db_url.startswith("sqlite:///") and db_url != "sqlite:///:memory:":
        return Path(f"{db_url.removeprefix('sqlite:///')}.{name}.lock")
    digest = hashlib.sha256(db_url.encode()).hexdigest()[:16]
    return Path(user_runtime_dir("dispatch")) / f"{name}-{digest}.lock"


@contextmanager
def exclusive(db_url: str, name: str = "optimize") -> Iterator[None]:
    path = lock_path(db_url, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(f"another {name} run holds {path}; try again when it has finished") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
