"""Telling the customer: the outbox the gate of job changes writes (``outbox``) and the notices no change
causes (``scans``: reminders, running late); their routing to each customer's channels (``routing``); the
texts (``texts``) and channels (``channels``); the sender that claims and delivers them at least once
(``claims``, ``sender``); and what was sent, for the CLI and the console (``queries``)."""
