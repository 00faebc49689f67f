"""Notify's collections, each behind a repository: deliveries, templates, survey answers.

A use case takes the repository it needs as a keyword argument; ``app.py``
wires the MongoDB ones, unit tests the in-memory fakes of
``tests/support/notify_memory.py``.
"""

from services.notify.store.collections import (
    DELIVERIES,
    INDEXES,
    RATES,
    REACHABILITY,
    REPLY_TOKENS,
    SURVEY_ANSWERS,
    TEMPLATE_CHANGES,
    TEMPLATES,
    notification_id,
)
from services.notify.store.deliveries import (
    DeliveryRepository,
    MongoDeliveries,
    intent_doc,
    rate_window,
)
from services.notify.store.surveys import MongoSurveys, SurveyRepository
from services.notify.store.templates import (
    Change,
    MongoTemplates,
    TemplateRepository,
    change_docs,
)

__all__ = [
    "DELIVERIES",
    "INDEXES",
    "RATES",
    "REACHABILITY",
    "REPLY_TOKENS",
    "SURVEY_ANSWERS",
    "TEMPLATES",
    "TEMPLATE_CHANGES",
    "Change",
    "DeliveryRepository",
    "MongoDeliveries",
    "MongoSurveys",
    "MongoTemplates",
    "SurveyRepository",
    "TemplateRepository",
    "change_docs",
    "intent_doc",
    "notification_id",
    "rate_window",
]
