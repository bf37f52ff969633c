"""Services: the operations the CLI, the TUI and scripts share."""
