"""Telling the customer: the outbox the gate of job changes writes (``outbox``), its routing to channels
(``routing``), the texts (``texts``), the channels (``channels``) and the sender that delivers them at
least once (``sender``)."""
