"""Settings: the embedded default under ~/.callarchive, everything overridable."""

from __future__ import annotations

from pathlib import Path

import pytest

from callarchive.settings import Settings


def test_everything_lives_under_the_home_folder_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOME", "DATABASE_URL", "MEDIA_URL", "WORK_URL", "SECRET_KEY"):
        monkeypatch.delenv(f"CALLARCHIVE_{name}", raising=False)
    settings = Settings()
    home = Path.home() / ".callarchive"
    assert settings.home == home
    assert settings.resolved_database_url == f"sqlite:///{home}/callarchive.db"
    assert settings.resolved_media_url == str(home / "media")
    assert settings.resolved_work_url == str(home / "work")
    assert settings.secret_key is None


def test_environment_variables_override_the_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CALLARCHIVE_HOME", str(tmp_path))
    monkeypatch.setenv("CALLARCHIVE_DATABASE_URL", "postgresql+psycopg://db/archive")
    monkeypatch.setenv("CALLARCHIVE_MEDIA_URL", "s3://media/archive")
    monkeypatch.setenv("CALLARCHIVE_SECRET_KEY", "k")
    settings = Settings()
    assert settings.home == tmp_path
    assert settings.resolved_database_url == "postgresql+psycopg://db/archive"
    assert settings.resolved_media_url == "s3://media/archive"
    assert settings.resolved_work_url == str(tmp_path / "work")
    assert settings.secret_key is not None
    assert "k" not in repr(settings.secret_key)
