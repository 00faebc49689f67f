"""Routing's internal HTTP API: the case, workspace and admin routes."""
