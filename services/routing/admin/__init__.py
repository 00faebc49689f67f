"""Routing changed at run time by an admin: the inputs, the overrides and the log of changes."""
