"""An import seals what it archives: right after catching up, the whole archive, its media
and its audit log verify; and importing the same window again keeps the seals."""

from __future__ import annotations

from tests.imports.harness import POLICY, SOURCE, Installation


def test_an_imported_archive_verifies_with_its_media(installation: Installation) -> None:
    installation.configure(codec="WAV")
    installation.catch_up()
    result = installation.cli("verify", "--all", "--audit", "--media")
    assert result.exit_code == 0, result.output
    assert "result: OK" in result.stdout
    assert " 0 media objects read" not in result.stdout
    sealed = result.stdout.split(" seals in ")[0].split(", ")[-1]

    start = f"{installation.emulator.config.start}T00:00:00Z"
    installation.must("cursor", "set", "--policy", POLICY, "--source", SOURCE, start)
    installation.catch_up()
    again = installation.cli("verify", "--all", "--audit")
    assert again.exit_code == 0, again.output
    assert again.stdout.split(" seals in ")[0].split(", ")[-1] == sealed
