"""Exit codes of the CLI (docs/exit-codes.md). Scripts rely on them: never renumber."""

OK = 0
FAILED = 1  # message on stderr, nothing half-written
USAGE = 2  # Click's own code for usage errors
REJECTED = 3  # input rejected; the problems are listed
BUSY = 75  # another optimize holds the lock (EX_TEMPFAIL)
