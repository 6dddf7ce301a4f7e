"""Signing keys: the keyring file is encrypted at rest, keeps the public keys of retired keys
(endorsed by the signing key), and survives a rotation of the secret key."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from callarchive.errors import ConfigurationError
from callarchive.secrets import SealKey, SecretBox
from callarchive.signing import (
    endorsement_message,
    load_seal_keyring,
    reencrypt_signing_keys,
    rotate_signing_key,
    signing_key_path,
)

NOW = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([SecretBox.generate_key()])


def test_the_key_file_is_created_private_and_encrypted(tmp_path: Path, box: SecretBox) -> None:
    keyring = load_seal_keyring(tmp_path, box)
    path = signing_key_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "PRIVATE KEY" not in text
    assert keyring.signer.key_id in text
    again = load_seal_keyring(tmp_path, box)
    assert again.signer.fingerprint == keyring.signer.fingerprint
    assert again.retired == ()


def test_a_plain_key_file_of_revision_v0007_is_encrypted_on_first_use(
    tmp_path: Path, box: SecretBox
) -> None:
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = signing_key_path(tmp_path)
    path.write_bytes(pem)
    path.chmod(0o600)
    keyring = load_seal_keyring(tmp_path, box)
    assert keyring.signer.fingerprint == SealKey(private).fingerprint
    assert "PRIVATE KEY" not in path.read_text()
    assert load_seal_keyring(tmp_path, box).signer.fingerprint == keyring.signer.fingerprint


def test_another_secret_key_cannot_open_it(tmp_path: Path, box: SecretBox) -> None:
    load_seal_keyring(tmp_path, box)
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        load_seal_keyring(tmp_path, SecretBox([SecretBox.generate_key()]))


def test_a_readable_key_file_is_refused(tmp_path: Path, box: SecretBox) -> None:
    load_seal_keyring(tmp_path, box)
    signing_key_path(tmp_path).chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_seal_keyring(tmp_path, box)


def test_a_key_file_that_is_not_ours_is_refused(tmp_path: Path, box: SecretBox) -> None:
    path = signing_key_path(tmp_path)
    path.write_text('{"format": "something else"}')
    path.chmod(0o600)
    with pytest.raises(ConfigurationError, match="not a callarchive signing key file"):
        load_seal_keyring(tmp_path, box)


def test_rotation_signs_with_a_new_key_and_keeps_the_old_public_keys(
    tmp_path: Path, box: SecretBox
) -> None:
    first = load_seal_keyring(tmp_path, box).signer
    second = rotate_signing_key(tmp_path, box, NOW).signer
    third = rotate_signing_key(tmp_path, box, NOW + dt.timedelta(days=1))
    loaded = load_seal_keyring(tmp_path, box)
    assert len({first.key_id, second.key_id, third.signer.key_id}) == 3
    assert loaded.signer.fingerprint == third.signer.fingerprint
    assert [key.verifier.key_id for key in loaded.retired] == [first.key_id, second.key_id]
    assert [key.retired_at for key in loaded.retired] == [NOW, NOW + dt.timedelta(days=1)]
    for key in (first, second, third.signer):
        assert loaded.find(key.key_id) is not None
    assert loaded.find("0" * 16) is None
    for retired in loaded.retired:  # the signing key vouches for every retired key
        message = endorsement_message(retired.verifier, retired.retired_at)
        assert loaded.signer.verify(retired.endorsement, message)
    assert "PRIVATE KEY" not in signing_key_path(tmp_path).read_text()


def test_the_keys_follow_a_rotation_of_the_secret_key(tmp_path: Path, box: SecretBox) -> None:
    before = load_seal_keyring(tmp_path, box).signer.fingerprint
    new_key = SecretBox.generate_key()
    reencrypt_signing_keys(tmp_path, box.with_primary(new_key))
    assert load_seal_keyring(tmp_path, SecretBox([new_key])).signer.fingerprint == before
