"""Privacy's operator commands, run by ``vocdesk audit verify`` and ``vocdesk keys rotate``."""

from __future__ import annotations

from services.privacy.audit import VerifyResult, verify_chain
from services.privacy.rotation import RotationReport, rotate_keys
from services.privacy.screening import key_ring
from services.privacy.store import audit_entries
from shared.runtime import open_store
from shared.settings import Settings


async def verify_audit(settings: Settings, mongo_url: str) -> VerifyResult:
    """Check the hash chain of privacy's audit log from its first entry."""
    store = open_store(settings, "privacy", mongo_url)
    try:
        return verify_chain(await audit_entries(store))
    finally:
        await store.client.close()


async def rotate_data_keys(settings: Settings, mongo_url: str) -> RotationReport:
    """Re-wrap every customer's data key under the newest KEK in ``VOCDESK_VAULT_KEK``."""
    store = open_store(settings, "privacy", mongo_url)
    try:
        return await rotate_keys(store, key_ring(settings))
    finally:
        await store.client.close()


def describe_verify(result: VerifyResult) -> tuple[str, int]:
    """Return the line to print for a verification and the command's exit code."""
    if result.ok:
        return f"audit log intact: {result.checked} entries", 0
    return (
        f"audit log broken at entry {result.first_bad_seq} "
        f"(after {result.checked} good entries): {result.reason}",
        1,
    )
