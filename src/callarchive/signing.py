"""Signing keys: the installation's keyring of Ed25519 seal keys, encrypted at rest, and its
rotation.

The keyring file `<CALLARCHIVE_HOME>/signing.key` (mode 0600, JSON) holds the signing key, its
PKCS #8 PEM encrypted by the `SecretBox` like every other stored secret, and the public half of
every retired key with the time it was retired. `rotate_signing_key` makes a new signing key
and retires the previous one: seals and audit entries name the key that signed them (its
`key_id`), so old ones keep verifying against the retired public keys, whose private halves are
not kept.

The signing key **endorses** each retired key: it signs
`callarchive-key-v1|retired|KEY_ID|FINGERPRINT|RETIRED_AT`, so that whoever trusts the current
key's fingerprint (a regulator checking an export) can trust the retired keys an export
carries. A key file of revision v0007 (a plain PEM private key) is read and rewritten encrypted
on first use.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from callarchive.errors import ConfigurationError
from callarchive.secrets import (
    SealKey,
    SealVerifier,
    SecretBox,
    _write_private_file,  # the same atomic 0600 writes as the secret key file
)

SIGNING_KEY_FILE_NAME = "signing.key"
_FORMAT = "callarchive-signing-keys-v1"
_FIELD = "signing_key"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RetiredKey:
    """The public half of a key that signed seals before a rotation."""

    verifier: SealVerifier
    retired_at: dt.datetime
    endorsement: str  # the current signing key's signature of `endorsement_message`


def endorsement_message(verifier: SealVerifier, retired_at: dt.datetime) -> bytes:
    """What the signing key signs to vouch for a retired key."""
    when = f"{retired_at.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
    return f"callarchive-key-v1|retired|{verifier.key_id}|{verifier.fingerprint}|{when}".encode()


class SealKeyring:
    """The signing key and the retired keys, found by key id."""

    def __init__(self, signer: SealKey, retired: Sequence[RetiredKey] = ()) -> None:
        self.signer = signer
        self.retired = tuple(retired)
        self._by_id: dict[str, SealVerifier] = {
            key.verifier.key_id: key.verifier for key in self.retired
        }
        self._by_id[signer.key_id] = signer

    def find(self, key_id: str) -> SealVerifier | None:
        """The key with this id (the signing key or a retired one); None when unknown."""
        return self._by_id.get(key_id)

    @property
    def verifiers(self) -> tuple[SealVerifier, ...]:
        """Every known key, the signing key first."""
        return (self.signer, *(key.verifier for key in self.retired))

    def rotated(self, new: SealKey, now: dt.datetime) -> SealKeyring:
        """The keyring with `new` signing and the current signer retired at `now`; `new`
        endorses every retired key."""
        retired = [*(key.verifier for key in self.retired), self.signer]
        times = [*(key.retired_at for key in self.retired), now]
        return SealKeyring(
            new,
            [
                RetiredKey(
                    verifier=SealVerifier.from_pem(verifier.public_pem),
                    retired_at=when,
                    endorsement=new.sign(endorsement_message(verifier, when)),
                )
                for verifier, when in zip(retired, times, strict=True)
            ],
        )

    def __repr__(self) -> str:
        return f"SealKeyring({self.signer.key_id}, retired={len(self.retired)})"


def signing_key_path(home: Path) -> Path:
    """Where the keyring lives under `CALLARCHIVE_HOME`."""
    return home / SIGNING_KEY_FILE_NAME


def load_seal_keyring(home: Path, box: SecretBox) -> SealKeyring:
    """The installation's keyring, created with a new key (mode 0600) on first use; a file that
    group or others can read is refused, as for the secret key."""
    path = signing_key_path(home)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_private_file(path, _dumps(SealKeyring(SealKey.generate()), box), exclusive=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigurationError(
            f"the signing key file {path} can be read by group or others (mode {mode:04o}); "
            f"run: chmod 600 {path}",
            field=_FIELD,
        )
    text = path.read_text(encoding="ascii")
    if text.lstrip().startswith("-----BEGIN"):  # revision v0007: a plain PEM private key
        keyring = SealKeyring(_private_key(text.encode("ascii"), path))
        _write_private_file(path, _dumps(keyring, box))
        return keyring
    return _loads(text, box, path)


def rotate_signing_key(home: Path, box: SecretBox, now: dt.datetime) -> SealKeyring:
    """Make a new signing key and retire the current one (its public key stays)."""
    keyring = load_seal_keyring(home, box).rotated(SealKey.generate(), now)
    _write_private_file(signing_key_path(home), _dumps(keyring, box))
    return keyring


def reencrypt_signing_keys(home: Path, box: SecretBox) -> None:
    """Encrypt the signing key again under `box`'s primary key (`callarchive secrets rotate`);
    nothing to do when there is no key file yet."""
    if signing_key_path(home).exists():
        _write_private_file(signing_key_path(home), _dumps(load_seal_keyring(home, box), box))


def _dumps(keyring: SealKeyring, box: SecretBox) -> str:
    pem = keyring.signer.private_pem()
    document = {
        "format": _FORMAT,
        "key_id": keyring.signer.key_id,
        "signing": box.encrypt_bytes(pem).decode("ascii"),
        "retired": [
            {
                "key_id": key.verifier.key_id,
                "public_pem": key.verifier.public_pem.decode("ascii"),
                "retired_at": key.retired_at.isoformat(),
                "endorsement": key.endorsement,
            }
            for key in keyring.retired
        ],
    }
    return json.dumps(document, indent=1) + "\n"


def _loads(text: str, box: SecretBox, path: Path) -> SealKeyring:
    try:
        document: dict[str, Any] = json.loads(text)
        if document.get("format") != _FORMAT:
            raise ValueError(document.get("format"))
        token = document["signing"].encode("ascii")
        retired = [_retired(entry) for entry in document["retired"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ConfigurationError(
            f"{path} is not a callarchive signing key file; restore it from a backup",
            field=_FIELD,
        ) from None
    return SealKeyring(_private_key(box.decrypt_bytes(token), path), retired)


def _retired(entry: dict[str, Any]) -> RetiredKey:
    return RetiredKey(
        verifier=SealVerifier.from_pem(entry["public_pem"].encode("ascii")),
        retired_at=dt.datetime.fromisoformat(entry["retired_at"]),
        endorsement=entry["endorsement"],
    )


def _private_key(pem: bytes, path: Path) -> SealKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except ValueError:
        raise ConfigurationError(
            f"{path} does not hold a PEM private key; restore it from a backup", field=_FIELD
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{path} does not hold an Ed25519 key", field=_FIELD)
    return SealKey(key)


__all__ = [
    "SIGNING_KEY_FILE_NAME",
    "RetiredKey",
    "SealKeyring",
    "endorsement_message",
    "load_seal_keyring",
    "reencrypt_signing_keys",
    "rotate_signing_key",
    "signing_key_path",
]
