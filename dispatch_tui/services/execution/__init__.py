"""Execution: the day as it happens (statuses, lateness, feedback) and the board that shows it."""
