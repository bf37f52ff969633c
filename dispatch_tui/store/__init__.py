"""The store: tables, engines and the schema migrations."""

from dispatch_tui.store.engine import database_url, make_engine, session_scope
from dispatch_tui.store.schema import StoreNotReady, ensure_ready, upgrade

__all__ = ["StoreNotReady", "database_url", "ensure_ready", "make_engine", "session_scope", "upgrade"]
