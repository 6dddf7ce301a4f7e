"""Secrets: hidden values, Fernet encryption, the key file and key rotation."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import InvalidToken

from callarchive.errors import ConfigurationError
from callarchive.secrets import (
    Secret,
    SecretBox,
    finish_key_rotation,
    key_file_path,
    load_secret_box,
    rotate_key_file,
)


def test_a_secret_prints_as_stars() -> None:
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret) + str(secret) + f"{secret}"
    assert secret.reveal() == "hunter2"


def test_a_box_encrypts_so_that_only_its_keys_decrypt() -> None:
    box = SecretBox([SecretBox.generate_key()])
    token = box.encrypt(Secret("hunter2"))
    assert "hunter2" not in token
    assert box.decrypt(token) == Secret("hunter2")
    with pytest.raises(ConfigurationError) as caught:
        SecretBox([SecretBox.generate_key()]).decrypt(token)
    assert caught.value.field == "CALLARCHIVE_SECRET_KEY"
    assert "hunter2" not in str(caught.value)


def test_the_key_file_is_created_on_first_start_with_mode_0600(tmp_path: Path) -> None:
    home = tmp_path / "home"
    box = load_secret_box(home=home, env_key=None)
    path = key_file_path(home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    token = box.encrypt(Secret("x"))
    assert load_secret_box(home=home, env_key=None).decrypt(token) == Secret("x")


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    load_secret_box(home=tmp_path, env_key=None)
    key_file_path(tmp_path).chmod(0o644)
    with pytest.raises(ConfigurationError) as caught:
        load_secret_box(home=tmp_path, env_key=None)
    assert "chmod 600" in str(caught.value)


def test_the_environment_key_wins_over_the_key_file(tmp_path: Path) -> None:
    key = SecretBox.generate_key().decode()
    token = SecretBox([key.encode()]).encrypt(Secret("x"))
    assert load_secret_box(home=tmp_path, env_key=key).decrypt(token) == Secret("x")
    assert not key_file_path(tmp_path).exists()


@pytest.mark.parametrize("value", ["not-a-key", "short,", " , "])
def test_a_malformed_environment_key_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_secret_box(home=tmp_path, env_key=value)
    assert caught.value.field == "CALLARCHIVE_SECRET_KEY"


def test_rotation_keeps_old_secrets_readable_until_finished(tmp_path: Path) -> None:
    old = load_secret_box(home=tmp_path, env_key=None)
    token = old.encrypt(Secret("x"))
    during = rotate_key_file(tmp_path)
    assert during.key_count == 2
    rotated = during.reencrypt(token)
    finish_key_rotation(tmp_path)
    after = load_secret_box(home=tmp_path, env_key=None)
    assert after.key_count == 1
    assert after.decrypt(rotated) == Secret("x")
    with pytest.raises(ConfigurationError):
        after.decrypt(token)
    assert stat.S_IMODE(key_file_path(tmp_path).stat().st_mode) == 0o600


def test_several_environment_keys_decrypt_and_the_first_encrypts(tmp_path: Path) -> None:
    new, old = SecretBox.generate_key(), SecretBox.generate_key()
    token = SecretBox([old]).encrypt(Secret("x"))
    box = load_secret_box(home=tmp_path, env_key=f"{new.decode()},{old.decode()}")
    assert SecretBox([new]).decrypt(box.reencrypt(token)) == Secret("x")


def test_the_raw_cipher_opens_what_the_box_seals_and_says_invalid_otherwise() -> None:
    box = SecretBox([SecretBox.generate_key()])
    assert box.fernet.decrypt(box.encrypt_bytes(b"token")) == b"token"
    with pytest.raises(InvalidToken):
        SecretBox([SecretBox.generate_key()]).fernet.decrypt(box.encrypt_bytes(b"token"))
