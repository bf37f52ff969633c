"""Billing: rates, time sheets and invoice lines from finished visits."""
