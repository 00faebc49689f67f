"""Headers of a call to an internal API made for a user: the service token and an assertion."""

from __future__ import annotations

from shared.internal_api import Acting, service_headers
from shared.settings import PLACEHOLDER


def acting_headers(
    *,
    audience: str,
    token: str,
    role: str,
    user: str = "tester",
    unit: str | None = None,
    acting_key: str = PLACEHOLDER,
) -> dict[str, str]:
    """Return what the console sends to ``audience`` for ``user`` (settings with env test)."""
    return service_headers(
        Acting(user=user, role=role, unit=unit),
        token=token,
        acting_key=acting_key,
        audience=audience,
    )
