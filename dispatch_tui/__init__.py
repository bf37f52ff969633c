"""dispatch: the core of a terminal-first console for field-service dispatchers.

Everything here is reachable without the TUI: the CLI, cron jobs and tests use the same services.
"""

__version__ = "0.1.0"
