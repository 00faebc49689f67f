"""SLA: policies, business calendars, a case's clock and the watcher that fires escalations."""
