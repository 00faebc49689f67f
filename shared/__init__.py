"""vocdesk's common package: settings, message contracts, bus, store, logging."""
