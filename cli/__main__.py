"""`python -m cli`: the same as the `dispatch` script."""

from cli.main import run

run()
