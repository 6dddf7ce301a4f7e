"""Secrets: values that are never shown, and the Fernet box that keeps them encrypted at rest.

A `Secret` wraps a plaintext (a client secret, a TLS key password, a proxy password) so that it
cannot leak through `repr`, `str`, logs or error messages; only `reveal()` gives the text. A
`SecretBox` encrypts secrets with its primary Fernet key and decrypts with any of its keys, which
is what makes key rotation safe.

Where the keys come from (`load_secret_box`):

- `CALLARCHIVE_SECRET_KEY`: one Fernet key, or several separated by commas; the first encrypts,
  every one decrypts (set `NEW,OLD`, run `callarchive secrets rotate`, then drop `OLD`);
- otherwise the key file `<CALLARCHIVE_HOME>/secret.key`, created on first start with mode 0600,
  one key per line, the first encrypting. `rotate_key_file` adds a new first key; once every
  stored secret is re-encrypted, `finish_key_rotation` drops the old ones.

The installation's signing keys (`SealKey`, Ed25519) sign the seals of archived conversations
and the audit log's chain; `callarchive.signing` keeps them (encrypted by the box) and rotates
them. A key's public half (`SealVerifier`: `public_pem`, `fingerprint`, `key_id`) is what a
regulator checks an export against.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from callarchive.errors import ConfigurationError

KEY_FILE_NAME = "secret.key"
_ENV_FIELD = "CALLARCHIVE_SECRET_KEY"
_KEY_HELP = (
    "expected url-safe base64 Fernet keys of 32 bytes, separated by commas "
    "(make one with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())')"
)


@dataclass(frozen=True, slots=True)
class Secret:
    """A plaintext secret that prints as stars; `reveal()` is the only way to read it."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        """The plaintext: pass it straight to the place that needs it, never to a log."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"


class SecretBox:
    """Encrypts with the first key, decrypts with any key (Fernet: AES-128-CBC + HMAC-SHA256)."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ConfigurationError("no secret key configured", field=_ENV_FIELD)
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        self._keys = tuple(keys)
        self.key_count = len(keys)

    def with_primary(self, key: bytes) -> SecretBox:
        """A box that encrypts with `key` and still decrypts with every key of this one."""
        return SecretBox([key, *self._keys])

    @property
    def fernet(self) -> MultiFernet:
        """The raw cipher (bytes in, bytes out, `InvalidToken` when no key opens a token), for
        caches that treat an unreadable entry as missing, such as the Genesys token vault."""
        return self._fernet

    @staticmethod
    def generate_key() -> bytes:
        """A new random Fernet key."""
        return Fernet.generate_key()

    def encrypt(self, secret: Secret) -> str:
        """The ciphertext of `secret` under the primary key, as ASCII text for a database."""
        return self._fernet.encrypt(secret.reveal().encode()).decode("ascii")

    def decrypt(self, token: str) -> Secret:
        """The secret inside `token`; `ConfigurationError` when no configured key opens it."""
        return Secret(self.decrypt_bytes(token.encode("ascii")).decode())

    def encrypt_bytes(self, data: bytes) -> bytes:
        """Ciphertext of arbitrary bytes (the work store's token cache)."""
        return self._fernet.encrypt(data)

    def decrypt_bytes(self, token: bytes) -> bytes:
        """Plaintext of `encrypt_bytes` output; `ConfigurationError` when no key opens it."""
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise ConfigurationError(
                "a stored secret cannot be decrypted with the configured keys: the key changed "
                "without `callarchive secrets rotate`; restore the previous key (add it after "
                "the current one) or enter the secrets again",
                field=_ENV_FIELD,
            ) from None

    def reencrypt(self, token: str) -> str:
        """`token` encrypted again under the primary key (key rotation)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            return self.encrypt(self.decrypt(token))  # raises the explanatory error


def parse_keys(text: str, *, field_name: str = _ENV_FIELD) -> list[bytes]:
    """Keys from comma- or newline-separated text; `ConfigurationError` when one is malformed."""
    keys = [part.strip().encode() for part in text.replace("\n", ",").split(",") if part.strip()]
    if not keys:
        raise ConfigurationError(f"empty; {_KEY_HELP}", field=field_name)
    for key in keys:
        try:
            Fernet(key)
        except ValueError:
            raise ConfigurationError(f"not a Fernet key; {_KEY_HELP}", field=field_name) from None
    return keys


def key_file_path(home: Path) -> Path:
    """Where the key file lives under `CALLARCHIVE_HOME`."""
    return home / KEY_FILE_NAME


def load_secret_box(*, home: Path, env_key: str | None) -> SecretBox:
    """The box for this installation: keys from the environment, else from the key file.

    The key file is created (mode 0600, in a home folder of mode 0700) on first use. A key file
    that group or others can read is refused: the key protects every stored secret.
    """
    if env_key:
        return SecretBox(parse_keys(env_key))
    return SecretBox(_read_or_create_key_file(key_file_path(home)))


def rotate_key_file(home: Path) -> SecretBox:
    """Put a new primary key in front of the key file's keys and return the box with all of them.

    Every stored secret stays readable throughout; call `finish_key_rotation` once they have all
    been re-encrypted under the new key.
    """
    path = key_file_path(home)
    keys = _read_or_create_key_file(path)
    keys = [SecretBox.generate_key(), *keys]
    _write_key_file(path, keys)
    return SecretBox(keys)


def finish_key_rotation(home: Path) -> None:
    """Keep only the primary key in the key file (after every secret was re-encrypted)."""
    path = key_file_path(home)
    _write_key_file(path, _read_or_create_key_file(path)[:1])


def _read_or_create_key_file(path: Path) -> list[bytes]:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_key_file(path, [SecretBox.generate_key()], exclusive=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigurationError(
            f"the key file {path} can be read by group or others (mode {mode:04o}); "
            f"run: chmod 600 {path}",
            field="secret_key",
        )
    return parse_keys(path.read_text(encoding="ascii"), field_name="secret_key")


def _write_key_file(path: Path, keys: Sequence[bytes], *, exclusive: bool = False) -> None:
    _write_private_file(
        path, "".join(key.decode("ascii") + "\n" for key in keys), exclusive=exclusive
    )


def _write_private_file(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Write atomically with mode 0600: a temporary file in the same folder, then a rename."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    descriptor = os.open(temporary, flags, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            # Two processes starting at once: the first key file wins, the other is discarded.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        else:
            temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


class SealVerifier:
    """An Ed25519 public key: checks signatures made by the matching `SealKey`."""

    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self._public = public_key

    @classmethod
    def from_pem(cls, pem: bytes) -> SealVerifier:
        """The verifier of a public key in PEM (`SubjectPublicKeyInfo`)."""
        try:
            key = serialization.load_pem_public_key(pem)
        except ValueError:
            raise ConfigurationError("not a PEM public key", field="public_key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ConfigurationError("not an Ed25519 public key", field="public_key")
        return cls(key)

    @property
    def public_pem(self) -> bytes:
        """The public key in PEM, for exports and `callarchive verify --public-key`."""
        return self._public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def fingerprint(self) -> str:
        """`SHA256:` and the hex sha256 of the raw 32-byte public key."""
        raw = self._public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return "SHA256:" + hashlib.sha256(raw).hexdigest()

    @property
    def key_id(self) -> str:
        """The key's short id, recorded beside each signature: the fingerprint's first 16 hex
        digits."""
        return self.fingerprint.removeprefix("SHA256:")[:16]

    def verify(self, signature_hex: str, message: bytes) -> bool:
        """Whether `signature_hex` is this key's signature of `message`."""
        try:
            self._public.verify(bytes.fromhex(signature_hex), message)
        except (InvalidSignature, ValueError):
            return False
        return True


class SealKey(SealVerifier):
    """The installation's Ed25519 signing key (never printed; `public_pem` is shareable)."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        super().__init__(private_key.public_key())
        self._private = private_key

    @classmethod
    def generate(cls) -> SealKey:
        """A new random key (tests, and the key file's first use)."""
        return cls(Ed25519PrivateKey.generate())

    def sign(self, message: bytes) -> str:
        """The hex signature of `message`."""
        return self._private.sign(message).hex()

    def private_pem(self) -> bytes:
        """The private key in PEM (PKCS #8, unencrypted): only for encrypting it at rest."""
        return self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def __repr__(self) -> str:
        return f"SealKey({self.fingerprint})"


__all__ = [
    "KEY_FILE_NAME",
    "SealKey",
    "SealVerifier",
    "Secret",
    "SecretBox",
    "finish_key_rotation",
    "key_file_path",
    "load_secret_box",
    "parse_keys",
    "rotate_key_file",
]
