"""The console's store: every query of its collections, one module per feature.

``users`` (accounts and their audit), ``throttle`` (failed logins),
``tickets`` (live tickets) and ``workspace`` (unread markers, canned
responses, attached files). Each module holds its collections' names and
``INDEXES``; ``app.py`` ensures them all.
"""
