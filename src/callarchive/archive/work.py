"""The work store: the seed's folders for tokens, cursors and the retry buffer.

Keys are '/'-separated paths relative to the work root, in the seed's layout:

    cdrimport/GenesysCloud/work/<policyId>_<importSourceId>/        encrypted token, downloads
    cdrimport/GenesysCloud/laststate/<policyId>_<importSourceId>/   <pair>.cursor, <pair>.partitions
    cdrimport/GenesysCloud/retryBuffer/<policyId>_<importSourceId>/ CDR XML files

On a local folder (the default) a key is exactly that file, so an operator can read and edit it
as the seed's maintenance procedure says; writes are atomic (a staging file, then a rename). On
S3 the same keys live under the bucket prefix.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import obstore

from callarchive.archive._obstore import STORE_ERRORS, S3Options, open_store, translate

if TYPE_CHECKING:
    from obstore.store import ObjectStore as ObstoreStore

ROOT = "cdrimport/GenesysCloud"
_SETTING = "CALLARCHIVE_WORK_URL"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class PairFolders:
    """The folders and cursor key of one policy and import source."""

    policy_id: int
    import_source_id: int

    @property
    def name(self) -> str:
        """`<policyId>_<importSourceId>`, the seed's folder name."""
        return f"{self.policy_id}_{self.import_source_id}"

    @property
    def work(self) -> str:
        """Encrypted token storage, temporary downloads."""
        return f"{ROOT}/work/{self.name}"

    @property
    def laststate(self) -> str:
        """The folder of the cursor file."""
        return f"{ROOT}/laststate/{self.name}"

    @property
    def cursor(self) -> str:
        """The cursor file: `laststate/<pair>/<pair>.cursor`."""
        return f"{self.laststate}/{self.name}.cursor"

    @property
    def partitions(self) -> str:
        """The partition backfill's progress: `laststate/<pair>/<pair>.partitions`."""
        return f"{self.laststate}/{self.name}.partitions"

    @property
    def retry_buffer(self) -> str:
        """CDR XML files awaiting retry."""
        return f"{ROOT}/retryBuffer/{self.name}"

    @property
    def rejected(self) -> str:
        """Retry buffer files that could not be parsed."""
        return f"{self.retry_buffer}/rejected"


def pair_folders(policy_id: int, import_source_id: int) -> PairFolders:
    """The seed's folders of a policy and import source."""
    return PairFolders(policy_id=policy_id, import_source_id=import_source_id)


def check_key(key: str, *, allow_root: bool = False) -> str:
    """`key` when it is a relative '/'-separated path without '.', '..' or empty parts."""
    if allow_root and key == "":
        return key
    parts = key.split("/")
    if key.startswith("/") or "\\" in key or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"{key!r} is not a relative work store path")
    return key


class WorkStore:
    """Small files of the work folders: get, atomic put, delete, list."""

    def __init__(self, store: ObstoreStore) -> None:
        self._store = store

    @classmethod
    def from_url(cls, url: str, *, s3: S3Options | None = None) -> WorkStore:
        """The store at `url` (folder path, file://, s3://BUCKET/PREFIX or memory://)."""
        return cls(open_store(url, s3=s3, setting=_SETTING))

    async def get(self, key: str) -> bytes | None:
        """The content of `key`, or None when there is no such file."""
        try:
            result = await obstore.get_async(self._store, check_key(key))
            return bytes(await result.bytes_async())
        except FileNotFoundError:
            return None
        except STORE_ERRORS as error:
            raise translate(error, key=key, setting=_SETTING) from error

    async def put(self, key: str, data: bytes) -> None:
        """Replace the content of `key` atomically: readers see the old or the new, never half."""
        try:
            await obstore.put_async(self._store, check_key(key), data, mode="overwrite")
        except STORE_ERRORS as error:
            raise translate(error, key=key, setting=_SETTING) from error

    async def delete(self, key: str) -> None:
        """Remove `key`; nothing happens when it does not exist."""
        try:
            await obstore.delete_async(self._store, check_key(key))
        except FileNotFoundError:
            return
        except STORE_ERRORS as error:
            raise translate(error, key=key, setting=_SETTING) from error

    async def list(self, prefix: str) -> list[str]:
        """Every key under the folder `prefix` (recursively), sorted."""
        folder = check_key(prefix.rstrip("/"), allow_root=True)
        try:
            found = await obstore.list(self._store, prefix=folder or None).collect_async()
        except FileNotFoundError:
            return []
        except STORE_ERRORS as error:
            raise translate(error, key=prefix, setting=_SETTING) from error
        return sorted(meta["path"] for meta in found)


__all__ = ["ROOT", "PairFolders", "WorkStore", "check_key", "pair_folders"]
