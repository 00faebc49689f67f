"""Privacy's message contract lives in ``shared.messages.consent``; kept for imports."""

from shared.messages.consent import ConsentChanged

__all__ = ["ConsentChanged"]
