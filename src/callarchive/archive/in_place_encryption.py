"""Encrypting in place the media stored before encryption was turned on (`encrypt_in_place`).

One object at a time, with readers and the import running: its stored bytes are read as one
version (pinned by entity tag), sealed for its key into a staging copy `<key>.encrypting`, and
the staging copy is read back and decrypted; only when its plaintext has the sha256 of what was
read (and of the archive, when given) does it replace the object, as one change seen by readers
(a rename; S3 copies over it). A process killed at any point leaves the object either as it was
or encrypted, never both, never half: the staging copy is only debris, dropped by the next run.
An object already encrypted is recognised by its header and left as it is, so running again
is safe and finishes what a run left. Memory stays flat: a 64 KiB chunk and an upload part.
With object lock, the encrypted version is locked as long as the version it replaces, which
the server keeps (unencrypted) until its own lock runs out.
"""

from __future__ import annotations

from enum import StrEnum

from callarchive.archive._obstore import ObjectChangedError
from callarchive.archive.encryption import STAGING_SUFFIX, EncryptedObjectStore
from callarchive.archive.media_keys import CorruptObjectError
from callarchive.archive.objects import ObjectVersion, StoredObject


class InPlaceOutcome(StrEnum):
    """What `encrypt_in_place` did with one object."""

    ENCRYPTED = "encrypted"  # it was stored unencrypted and is now encrypted
    ALREADY_ENCRYPTED = "already_encrypted"  # nothing to do (a run before, or the import)
    GONE = "gone"  # deleted before or while it was encrypted (retention): nothing to do
    CHANGED = "changed"  # replaced while it was encrypted (another run): the next run sees it
    MISMATCHED = "mismatched"  # its sha256 is not the archive's: left unencrypted, reported


async def encrypt_in_place(
    store: EncryptedObjectStore, key: str, *, sha256: str | None = None
) -> InPlaceOutcome:
    """Encrypt the object under `key` if it is stored unencrypted (see the module docstring).

    `sha256`, the archive's for this object when it has one: an object whose plaintext has
    another is left as it is (`MISMATCHED`), for `callarchive verify --media` to report.
    """
    raw = store.raw
    staging = key + STAGING_SUFFIX
    found = await store.inspect(key)
    await raw.delete(staging)  # debris of a run killed before (or, on S3, just after) its move
    if found is None:
        return InPlaceOutcome.GONE
    version, encrypted = found
    if encrypted:
        await raw.retain_like(key, key)  # a run killed between its move and its lock
        return InPlaceOutcome.ALREADY_ENCRYPTED
    try:
        plain = await _seal_copy(store, version, staging)
    except ObjectChangedError:
        await raw.delete(staging)
        return InPlaceOutcome.CHANGED
    if sha256 is not None and plain.sha256 != sha256.lower():
        await raw.delete(staging)
        return InPlaceOutcome.MISMATCHED
    await _check_copy(store, key, staging, plain)
    current = await raw.version(key)
    if current is None or current.e_tag != version.e_tag:
        await raw.delete(staging)
        return InPlaceOutcome.GONE if current is None else InPlaceOutcome.CHANGED
    await raw.move(staging, key)
    # With object lock, the encrypted copy is a new version: lock it as long as the old one
    # (which stays, unencrypted, until its own lock runs out).
    await raw.retain_like(key, key)
    return InPlaceOutcome.ENCRYPTED


async def _seal_copy(
    store: EncryptedObjectStore, version: ObjectVersion, staging: str
) -> StoredObject:
    """Seal the stored bytes of `version` for its key into `staging`; their size and sha256."""
    async with store.raw.upload(staging) as inner:
        sealing = store.sealing(version.key, inner)
        async for chunk in store.raw.read_stored(version):
            await sealing.write(chunk)
        await sealing.complete()
    return sealing.result()


async def _check_copy(
    store: EncryptedObjectStore, key: str, staging: str, plain: StoredObject
) -> None:
    """Decrypt the staging copy (sealed for `key`) whole; `CorruptObjectError` unless it gives
    back `plain`. The object under `key` is untouched until this passes."""
    copy = await store.describe_copy(staging, sealed_for=key)
    if (copy.size, copy.sha256) != (plain.size, plain.sha256):
        await store.raw.delete(staging)
        raise CorruptObjectError(
            f"the encrypted copy of {key!r} does not give back what was read; the object is "
            "left unencrypted"
        )


__all__ = ["InPlaceOutcome", "encrypt_in_place"]
