"""Media master keys: the `MediaKeyring` that wraps and unwraps the data keys of encrypted media.

Off unless configured: `CALLARCHIVE_MEDIA_KEY` (url-safe base64 keys of 32 bytes, the format of
Fernet keys, comma-separated, the first wrapping new data keys, every one unwrapping), else the
key file named by `CALLARCHIVE_MEDIA_KEY_FILE` (one key per line, mode 0600, created with a
random key when missing). A key is known by its id (`key_id`, a hash), never stored beside what
it wraps. `rotate_media_key_file` and `finish_media_key_rotation` are the key file's half of
`callarchive secrets rotate-media-key`; `EncryptedObjectStore.rewrap` is the objects' half.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import struct
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from callarchive.errors import ConfigurationError, FatalError
from callarchive.secrets import SecretBox, parse_keys
from callarchive.secrets import _write_key_file as write_key_file  # the same 0600 key files

WRAP = struct.Struct(">8s12s48s")  # master key id, nonce, data key sealed with AES-256-GCM
_SETTING = "CALLARCHIVE_MEDIA_KEY"
_FILE_SETTING = "CALLARCHIVE_MEDIA_KEY_FILE"


class CorruptObjectError(FatalError):
    """A stored object fails authentication: it was altered, truncated or is not ours."""


class MediaKeyring:
    """Master keys of 32 bytes: the first wraps new data keys, every one unwraps."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ConfigurationError("no media key configured", field=_SETTING)
        for key in keys:
            if len(key) != 32:
                raise ConfigurationError("a media key must be 32 bytes", field=_SETTING)
        self._keys = {key_id(key): key for key in reversed(keys)}
        self.primary_id = key_id(keys[0])

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        """`data_key` sealed under the primary master key (a `WRAP` record)."""
        nonce = os.urandom(12)
        sealed = AESGCM(self._keys[self.primary_id]).encrypt(
            nonce, data_key, self.primary_id + context
        )
        return WRAP.pack(self.primary_id, nonce, sealed)

    def unwrap(self, record: bytes, context: bytes, *, key: str) -> bytes:
        """The data key in a `WRAP` record; `CorruptObjectError` when it does not open."""
        master_id, nonce, sealed = WRAP.unpack(record)
        master = self._keys.get(master_id)
        if master is None:
            raise ConfigurationError(
                f"the data key of {key!r} is wrapped by media key {master_id.hex()}, which is "
                "not configured; add that key after the current one",
                field=_SETTING,
            )
        try:
            return AESGCM(master).decrypt(nonce, sealed, master_id + context)
        except InvalidTag:
            raise CorruptObjectError(
                f"the data key of {key!r} does not authenticate: the object was altered"
            ) from None


def load_media_keyring(*, env_key: str | None, key_file: Path | None) -> MediaKeyring | None:
    """The media master keys from `CALLARCHIVE_MEDIA_KEY` (url-safe base64 keys of 32 bytes,
    comma-separated, the first wrapping), else from `key_file` (one per line; created with mode
    0600 when missing); None when neither is set: media is stored as it comes."""
    if env_key:
        return MediaKeyring(_raw(parse_keys(env_key, field_name=_SETTING)))
    if key_file is None:
        return None
    return MediaKeyring(_raw(_read_key_file(key_file)))


def rotate_media_key_file(path: Path) -> None:
    """Put a new first key in the media key file. The old ones stay (objects written meanwhile
    by processes not yet restarted use them) until `finish_media_key_rotation`."""
    write_key_file(path, [SecretBox.generate_key(), *_read_key_file(path)])


def finish_media_key_rotation(path: Path) -> None:
    """Keep only the first key of the media key file (every data key is wrapped by it)."""
    write_key_file(path, _read_key_file(path)[:1])


def _read_key_file(path: Path) -> list[bytes]:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_key_file(path, [SecretBox.generate_key()], exclusive=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigurationError(
            f"the media key file {path} can be read by group or others (mode {mode:04o}); "
            f"run: chmod 600 {path}",
            field=_FILE_SETTING,
        )
    return parse_keys(path.read_text(encoding="ascii"), field_name=_FILE_SETTING)


def _raw(keys: Sequence[bytes]) -> list[bytes]:
    return [base64.urlsafe_b64decode(key) for key in keys]


def key_id(master: bytes) -> bytes:
    """The 8-byte id of a master key, stored beside what it wraps (never the key itself)."""
    return hashlib.sha256(b"callarchive media key id\0" + master).digest()[:8]


__all__ = [
    "WRAP",
    "CorruptObjectError",
    "MediaKeyring",
    "finish_media_key_rotation",
    "key_id",
    "load_media_keyring",
    "rotate_media_key_file",
]
