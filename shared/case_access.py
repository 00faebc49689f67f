"""Which roles may do what to a case: one table, checked by the console and again by routing."""

from __future__ import annotations

from enum import Enum


class Can(Enum):
    """Permissions on cases and their configuration."""

    READ = "read"
    WORK = "work"
    REOPEN = "reopen"
    RATE = "rate"
    ON_BEHALF = "acknowledge on the customer's behalf"
    CERTIFY = "certify a closure"
    CALLBACKS = "see the callback list"
    ADMIN = "administer routing"


ROLES: dict[Can, frozenset[str]] = {
    Can.READ: frozenset(
        {"agent", "supervisor", "unit_member", "manager", "admin", "dpo", "system", "notify"}
    ),
    # Admins may do whatever an agent does; routing marks each such event as an admin's.
    Can.WORK: frozenset({"agent", "supervisor", "unit_member", "admin"}),
    Can.REOPEN: frozenset({"agent", "supervisor", "admin"}),
    # The customer's rating arrives through notify's survey page or an agent's phone survey.
    Can.RATE: frozenset({"notify", "system", "agent", "supervisor", "admin"}),
    Can.ON_BEHALF: frozenset({"agent", "supervisor", "admin"}),
    Can.CERTIFY: frozenset({"supervisor"}),
    Can.CALLBACKS: frozenset({"agent", "supervisor", "admin"}),
    Can.ADMIN: frozenset({"admin"}),
}
