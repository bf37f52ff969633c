"""Intake: how requests and the company's records come in (imports, the demo store)."""
