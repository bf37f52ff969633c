"""The store: tables, engines and the schema migrations."""

from dispatch_tui.store.engine import StoreMissing, database_url, make_engine, session_scope, sqlite_file
from dispatch_tui.store.schema import StoreNotReady, ensure_ready, upgrade

__all__ = [
    "StoreMissing",
    "StoreNotReady",
    "database_url",
    "ensure_ready",
    "make_engine",
    "session_scope",
    "sqlite_file",
    "upgrade",
]
