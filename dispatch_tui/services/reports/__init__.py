"""Reports: KPIs and the plan as data (schedule JSON, calendars)."""
