"""Envelope encryption of customer identity.

Each customer's identity is encrypted with its own random data key (AES-256-GCM);
the data key is stored wrapped by a key-encryption key (KEK) from settings.
Erasure deletes the wrapped data key, after which the identity cannot be read.
Rotating KEKs re-wraps data keys only; identity ciphertext is never touched.

Errors raised here::

    Forbidden (shared.errors)
    └── VaultRefused         the vault will not give back clear identity
        ├── KeyDestroyed     the data key was destroyed (the customer was erased)
        └── DecryptionFailed authentication failed: wrong key, wrong subject, altered data
    ConfigError (shared.errors)
    └── UnknownKek           a wrapped key names a KEK the key ring does not hold
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.errors import ConfigError, Forbidden
from shared.messages.base import Frozen

KEY_BYTES = 32
NONCE_BYTES = 12  # the 96-bit nonce GCM is specified for
IDENTITY_FORMAT = 1
# Domain labels keep a key or ciphertext made for one use from verifying in another.
_KEK_INFO = b"vocdesk/vault/kek/v1"
_WRAP_AAD = b"vocdesk/vault/data-key/v1:"
_IDENTITY_AAD = b"vocdesk/vault/identity/v1:"


class VaultRefused(Forbidden):
    """The vault refuses to return clear identity."""


class KeyDestroyed(VaultRefused):
    """The customer's data key was destroyed by erasure; the identity is gone for good."""


class DecryptionFailed(VaultRefused):
    """Authentication failed: the key or subject is wrong, or the stored data was altered."""


class UnknownKek(ConfigError):
    """A wrapped data key names a key-encryption key that is not configured."""


class WrappedKey(Frozen):
    """A data key encrypted under a KEK, as stored beside the customer's identity."""

    kek_id: str
    nonce: str
    ciphertext: str


def derive_key(secret: str, *, purpose: bytes) -> bytes:
    """Derive a 32-byte key for ``purpose`` from a secret string in settings."""
    if not secret:
        raise ConfigError("an empty secret cannot derive a key")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose)
    return hkdf.derive(secret.encode("utf-8"))


class KeyRing:
    """The configured KEKs, oldest first; the last one wraps every new data key."""

    def __init__(self, keks: Sequence[tuple[str, str]]) -> None:
        if not keks:
            raise ConfigError("the key ring needs at least one KEK")
        self._keks: dict[str, AESGCM] = {}
        for kek_id, secret in keks:
            if not kek_id or kek_id in self._keks:
                raise ConfigError(f"KEK ids must be unique and non-empty: {kek_id!r}")
            self._keks[kek_id] = AESGCM(derive_key(secret, purpose=_KEK_INFO))
        self.current_kek_id = keks[-1][0]

    @classmethod
    def from_setting(cls, value: str) -> KeyRing:
        """Build from ``id:secret,id:secret`` (oldest first); a bare secret gets id ``k1``."""
        entries = [item.strip() for item in value.split(",") if item.strip()]
        if len(entries) == 1 and ":" not in entries[0]:
            return cls([("k1", entries[0])])
        pairs: list[tuple[str, str]] = []
        for entry in entries:
            kek_id, sep, secret = entry.partition(":")
            if not sep:
                raise ConfigError("each KEK must be written as id:secret")
            pairs.append((kek_id.strip(), secret))
        return cls(pairs)

    def new_data_key(self) -> WrappedKey:
        """Create a random data key and return it wrapped under the current KEK."""
        return self._wrap(AESGCM.generate_key(bit_length=KEY_BYTES * 8))

    def unwrap(self, wrapped: WrappedKey | None) -> bytes:
        """Return the clear data key; ``None`` stands for a key destroyed by erasure."""
        if wrapped is None:
            raise KeyDestroyed("the customer's data key was destroyed")
        kek = self._keks.get(wrapped.kek_id)
        if kek is None:
            raise UnknownKek(f"KEK {wrapped.kek_id!r} is not in the key ring")
        nonce = _b64decode(wrapped.nonce)
        ciphertext = _b64decode(wrapped.ciphertext)
        try:
            return kek.decrypt(nonce, ciphertext, _WRAP_AAD + wrapped.kek_id.encode())
        except (InvalidTag, ValueError) as exc:
            raise DecryptionFailed("the wrapped data key does not authenticate") from exc

    def rewrap(self, wrapped: WrappedKey) -> WrappedKey:
        """Wrap the data key under the current KEK; a key already current comes back as-is."""
        # Returning the same object lets a rotation job skip writes for keys already done.
        if wrapped.kek_id == self.current_kek_id:
            return wrapped
        return self._wrap(self.unwrap(wrapped))

    def _wrap(self, data_key: bytes) -> WrappedKey:
        nonce = secrets.token_bytes(NONCE_BYTES)
        aad = _WRAP_AAD + self.current_kek_id.encode()
        ciphertext = self._keks[self.current_kek_id].encrypt(nonce, data_key, aad)
        return WrappedKey(
            kek_id=self.current_kek_id, nonce=_b64encode(nonce), ciphertext=_b64encode(ciphertext)
        )


def encrypt_identity(
    identity: Mapping[str, str | None], data_key: bytes, *, aad: bytes
) -> dict[str, Any]:
    """Encrypt the identity as one document bound to ``aad`` (the subject id)."""
    if not aad:
        raise ValueError("aad must name the subject the identity belongs to")
    # One ciphertext per document rather than per field hides which fields are held.
    plaintext = json.dumps(dict(identity), ensure_ascii=False, sort_keys=True).encode("utf-8")
    nonce = secrets.token_bytes(NONCE_BYTES)
    ciphertext = _cipher(data_key).encrypt(nonce, plaintext, _IDENTITY_AAD + aad)
    return {"v": IDENTITY_FORMAT, "nonce": _b64encode(nonce), "ciphertext": _b64encode(ciphertext)}


def decrypt_identity(
    document: Mapping[str, Any], data_key: bytes | None, *, aad: bytes
) -> dict[str, str | None]:
    """Decrypt a document from ``encrypt_identity``; ``None`` as key means it was destroyed."""
    if data_key is None:
        raise KeyDestroyed("the customer's data key was destroyed")
    if document.get("v") != IDENTITY_FORMAT:
        raise DecryptionFailed(f"unknown identity format {document.get('v')!r}")
    nonce = _b64decode(str(document.get("nonce", "")))
    ciphertext = _b64decode(str(document.get("ciphertext", "")))
    try:
        plaintext = _cipher(data_key).decrypt(nonce, ciphertext, _IDENTITY_AAD + aad)
    except (InvalidTag, ValueError) as exc:
        raise DecryptionFailed("the identity does not authenticate for this subject") from exc
    identity: dict[str, str | None] = json.loads(plaintext)
    return identity


def _cipher(data_key: bytes) -> AESGCM:
    if len(data_key) != KEY_BYTES:
        raise ValueError(f"a data key is {KEY_BYTES} bytes, got {len(data_key)}")
    return AESGCM(data_key)


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionFailed("stored ciphertext is not valid base64") from exc
