"""Which acting roles may call which of privacy's operations (checked again here, per design)."""

from __future__ import annotations

from shared.errors import Forbidden

DPO = frozenset({"dpo"})
AUDIT_READERS = frozenset({"dpo", "admin", "system"})
NOTIFY = frozenset({"notify"})
# Who writes to a customer on a case: the roles routing lets work a case.
STAFF_WRITERS = frozenset({"agent", "supervisor", "unit_member", "admin"})


def require_role(role: str, allowed: frozenset[str], *, to: str) -> None:
    """Raise ``Forbidden`` unless ``role`` is one of ``allowed``."""
    if role not in allowed:
        raise Forbidden(f"a {role} may not {to}")
