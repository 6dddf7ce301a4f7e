"""The `callarchive` commands: what they print, what they store, how they fail."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from callarchive.archive import Archive, head_revision
from callarchive.cli import ProbeResult
from callarchive.configuration import User
from callarchive.web.security import verify_password
from tests.archive.builders import conversation
from tests.cli.harness import NOW, SOURCE_ARGS, FakeProbe, Installation


@pytest.fixture
def installation(tmp_path: Path, database_url: str) -> Installation:
    return Installation(home=tmp_path / "home", database_url=database_url)


def replace_option(args: tuple[str, ...], option: str, value: str | None) -> list[str]:
    out = list(args)
    index = out.index(option)
    if value is None:
        del out[index : index + 2]
    else:
        out[index + 1] = value
    return out


def test_source_add_list_and_show(installation: Installation) -> None:
    added = installation.run("source", "add", *SOURCE_ARGS, "--internal-number-pattern", r"^\d{4}$")
    assert added.exit_code == 0, added.output
    assert "added import source 'Chicago' (id 1)" in added.output
    listed = installation.run("source", "list")
    assert listed.output.splitlines()[1].split() == [
        "1", "Chicago", "https://api.usw2.pure.cloud", "MP3", "America/Chicago", "transcode",
    ]  # fmt: skip
    shown = installation.run("source", "show", "Chicago")
    assert "client_secret                (set)" in shown.output
    assert "proxy_password               (not set)" in shown.output
    assert "recording_start              2024-01-01T00:00:00-06:00" in shown.output
    assert "s3cr3t-value" not in shown.output
    as_json = json.loads(installation.run("source", "show", "Chicago", "--json").output)
    assert as_json["internal_number_patterns"] == [r"^\d{4}$"]
    assert "client_secret" not in as_json


def test_a_secret_can_come_from_the_environment(installation: Installation) -> None:
    args = replace_option(SOURCE_ARGS, "--client-secret", None)
    os.environ["CALLARCHIVE_SOURCE_CLIENT_SECRET"] = "from-env"
    try:
        assert installation.run("source", "add", *args).exit_code == 0
    finally:
        del os.environ["CALLARCHIVE_SOURCE_CLIENT_SECRET"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--name", None, "name: mandatory"),
        ("--client-id", None, "client_id: mandatory"),
        ("--client-secret", None, "client_secret: mandatory"),
        (
            "--auth-url",
            "http://login.usw2.pure.cloud",
            "auth_url: 'http://login.usw2.pure.cloud' is not",
        ),
        ("--api-url", None, "api_url: mandatory"),
        ("--codec", "AAC", "codec: 'AAC' is not allowed; expected the Genesys"),
        ("--recording-timezone", "Chicago", "recording_timezone: 'Chicago' is not a known"),
        ("--recording-start", "last year", "recording_start: 'last year' is not a time stamp"),
        ("--max-recording-length-min", "-1", "max_recording_length_min: -1 is out of range"),
        (
            "--availability-delay-min",
            "soon",
            "availability_delay_min: 'soon' is not a whole number",
        ),
        ("--cache-lifetime-min", None, "cache_lifetime_min: mandatory"),
    ],
)
def test_source_add_refuses_bad_input_naming_the_item(
    installation: Installation, option: str, value: str | None, message: str
) -> None:
    result = installation.run("source", "add", *replace_option(SOURCE_ARGS, option, value))
    assert result.exit_code == 2
    assert f"error: {message}" in result.stderr
    assert "Traceback" not in result.output
    assert installation.run("source", "list").output.strip() == "(none)"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ("--proxy-address", "proxy.example.com", "--proxy-port", "70000"),
            "proxy_port: 70000 is out of range",
        ),
        (("--proxy-port", "3128"), "proxy_port: set without a forward proxy address"),
        (
            ("--tls-certificate", "/nonexistent/cert.pem"),
            "tls_certificate: '/nonexistent/cert.pem' does",
        ),
        (("--fetch-strategy", "fast"), "fetch_strategy: 'fast' is not allowed"),
        (("--batch-duration-min", "0"), "batch_duration_min: 0 is out of range"),
    ],
)
def test_source_add_refuses_bad_optional_items(
    installation: Installation, extra: tuple[str, ...], message: str
) -> None:
    result = installation.run("source", "add", *SOURCE_ARGS, *extra)
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_source_name_is_used_once(installation: Installation) -> None:
    installation.run("source", "add", *SOURCE_ARGS)
    again = installation.run("source", "add", *SOURCE_ARGS)
    assert again.exit_code == 2
    assert "name: an import source named 'Chicago' already exists" in again.stderr


def test_source_test_gets_a_token_and_counts_the_last_hour(installation: Installation) -> None:
    installation.probe = FakeProbe(
        ProbeResult(token_expires_in_s=86399, conversations=17, warnings=("no viewSensitiveData",))
    )
    installation.run("source", "add", *SOURCE_ARGS)
    result = installation.run("source", "test", "Chicago")
    assert result.exit_code == 0, result.output
    assert "token obtained (expires in 86399 s)" in result.stdout
    assert "conversations started in the last hour: 17" in result.stdout
    assert "warning: no viewSensitiveData" in result.stderr
    assert installation.probe.calls == [("Chicago", NOW.replace(hour=15), NOW)]


def test_source_test_of_an_unknown_source_fails(installation: Installation) -> None:
    result = installation.run("source", "test", "Dallas")
    assert result.exit_code == 2
    assert "there is no import source named 'Dallas'" in result.stderr


def test_policies_users_and_extensions(installation: Installation) -> None:
    installation.run("source", "add", *SOURCE_ARGS)
    run = installation.run
    assert (
        run(
            "policy",
            "add",
            "--name",
            "US",
            "--source",
            "Chicago",
            "--every-minutes",
            "10",
            "--server",
            "n1",
        ).exit_code
        == 0
    )
    assert run("policy", "list").output.splitlines()[1].split() == [
        "1",
        "US",
        "Chicago",
        "every",
        "10",
        "min",
        "yes",
        "n1",
    ]
    assert (
        run(
            "user", "add", "--login", "boss", "--name", "The Boss", "--role", "supervisor"
        ).exit_code
        == 0
    )
    assert (
        run(
            "user",
            "add",
            "--login",
            "jane",
            "--name",
            "Jane",
            "--supervisor",
            "boss",
            "--partition",
            "sales",
        ).exit_code
        == 0
    )
    assert "jane   Jane      agent       boss        sales       yes" in run("user", "list").output
    assert (
        run(
            "extension", "add", "--type", "number", "--value", "+1 312 555 0101", "--user", "jane"
        ).exit_code
        == 0
    )
    assert (
        run(
            "extension",
            "add",
            "--type",
            "address",
            "--value",
            "jane@example.com",
            "--user",
            "jane",
            "--valid-from",
            "2024-01-01",
        ).exit_code
        == 0
    )
    listed = run("extension", "list", "--user", "jane").output
    assert "number   +13125550101      jane  -" in listed
    assert "address  jane@example.com  jane  2024-01-01T00:00:00+00:00" in listed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("policy", "add", "--name", "P", "--source", "Nowhere"),
            "import_sources: there is no import source",
        ),
        (("policy", "add", "--name", "P"), "import_sources: mandatory"),
        (
            ("policy", "add", "--name", "P", "--source", "Chicago", "--every-minutes", "0"),
            "schedule: 0 is out of range",
        ),
        (("user", "add", "--login", "jane"), "name: mandatory"),
        (
            ("user", "add", "--login", "jane", "--name", "J", "--role", "king"),
            "role: 'king' is not allowed",
        ),
        (
            ("user", "add", "--login", "jane", "--name", "J", "--supervisor", "ghost"),
            "supervisor: there is no user",
        ),
        (
            ("extension", "add", "--type", "fax", "--value", "1", "--user", "x"),
            "type: 'fax' is not allowed",
        ),
        (
            ("extension", "add", "--type", "number", "--value", "abc", "--user", "x"),
            "value: 'abc' is not a number",
        ),
        (
            ("extension", "add", "--type", "number", "--value", "1", "--user", "ghost"),
            "user: there is no user",
        ),
    ],
)
def test_setup_commands_refuse_bad_input_naming_the_item(
    installation: Installation, args: tuple[str, ...], message: str
) -> None:
    installation.run("source", "add", *SOURCE_ARGS)
    result = installation.run(*args)
    assert result.exit_code == 2
    assert f"error: {message}" in result.stderr


def _archive_conversations(installation: Installation) -> None:
    async def store() -> None:
        archive = Archive.open(installation.database_url, installation.wiring().box())
        try:
            await archive.users.add(User(login="jane", name="Jane Doe"), actor="t")
            await archive.users.add(User(login="joe", name="Joe"), actor="t")
            await archive.conversations.save(conversation(1, "c-1"))
            await archive.conversations.save(conversation(1, "c-2", user_login="joe"))
        finally:
            await archive.close()

    asyncio.run(store())


def test_conversations_export_writes_one_json_object_per_line(
    installation: Installation, tmp_path: Path
) -> None:
    installation.run("source", "add", *SOURCE_ARGS)
    _archive_conversations(installation)
    result = installation.run("conversations", "export", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["platform_call_id"] for r in records] == ["c-1", "c-2"]
    assert records[0]["start_time"] == "09:00:00"
    only_jane = installation.run(
        "conversations", "export", "--user", "jane", "--output", str(tmp_path / "out.jsonl")
    )
    assert only_jane.exit_code == 0
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 1
    later = installation.run("conversations", "export", "--from", "2024-03-01T16:00Z")
    assert later.stdout == ""


def test_conversations_export_refuses_other_formats(installation: Installation) -> None:
    result = installation.run("conversations", "export", "--format", "csv")
    assert result.exit_code == 2
    assert "'csv' is not one of 'jsonl', 'zip'" in result.output


def test_config_moves_a_setup_to_another_installation(
    installation: Installation, tmp_path: Path
) -> None:
    installation.run("source", "add", *SOURCE_ARGS)
    installation.run("policy", "add", "--name", "US", "--source", "Chicago")
    installation.run("user", "add", "--login", "jane", "--name", "Jane")
    installation.run("extension", "add", "--type", "number", "--value", "4101", "--user", "jane")
    exported = installation.run("config", "export", "-")
    assert exported.exit_code == 0
    document = json.loads(exported.stdout)
    assert "s3cr3t-value" not in exported.stdout
    assert list(document) == ["import_sources", "policies", "users", "extensions"]

    other_db = tmp_path / "other.db"
    other = Installation(home=tmp_path / "other", database_url=f"sqlite:///{other_db}")
    assert other.run("db", "upgrade").exit_code == 0
    refused = other.run("config", "import", "-", input=exported.stdout)
    assert refused.exit_code == 2
    assert "import_sources[0].client_secret: mandatory" in refused.stderr
    document["import_sources"][0]["client_secret"] = "s3cr3t-value"
    (tmp_path / "setup.json").write_text(json.dumps(document))
    imported = other.run("config", "import", str(tmp_path / "setup.json"))
    assert imported.exit_code == 0, imported.output
    assert "imported 4 items" in imported.output
    assert json.loads(other.run("config", "export", "-").stdout) == json.loads(exported.stdout)
    # The same document again changes nothing; existing sources keep their secret.
    assert installation.run("config", "import", "-", input=exported.stdout).exit_code == 0


def test_config_import_refuses_what_is_not_a_configuration(
    installation: Installation, tmp_path: Path
) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    result = installation.run("config", "import", str(tmp_path / "bad.json"))
    assert result.exit_code == 2
    assert "file: " in result.stderr
    assert "is not JSON" in result.stderr


def test_secrets_rotate_replaces_the_key_and_keeps_secrets_readable(
    installation: Installation,
) -> None:
    installation.run("source", "add", *SOURCE_ARGS)
    key_file = installation.home / "secret.key"
    before = key_file.read_text()
    result = installation.run("secrets", "rotate")
    assert result.exit_code == 0, result.output
    assert "re-encrypted 1 secrets" in result.output
    assert key_file.read_text() != before
    assert len(key_file.read_text().split()) == 1
    assert installation.run("source", "show", "Chicago").exit_code == 0


def test_commands_need_an_upgraded_database(tmp_path: Path) -> None:
    fresh = Installation(home=tmp_path / "h", database_url=f"sqlite:///{tmp_path}/new.db")
    refused = fresh.run("source", "list")
    assert refused.exit_code == 1
    assert "run `callarchive db upgrade` first" in refused.stderr
    upgraded = fresh.run("db", "upgrade")
    head = head_revision()
    assert upgraded.output == f"database at schema revision {head}\n"
    assert fresh.run("db", "status").output == f"database: {head}; needed: {head}\n"
    assert fresh.run("source", "list").exit_code == 0


def test_the_installed_command_prints_errors_without_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "CALLARCHIVE_HOME": str(tmp_path / "home")}
    env.pop("CALLARCHIVE_DATABASE_URL", None)
    env.pop("CALLARCHIVE_SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "callarchive.cli", "source", "show", "x"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: the database is at schema revision none")
    assert "Traceback" not in result.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "callarchive.cli", "source", "list"],
        env={**env, "CALLARCHIVE_DATABASE_URL": "mysql://x/y"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "CALLARCHIVE_DATABASE_URL: unsupported database 'mysql'" in bad.stderr


def test_a_command_loads_only_its_own_module(tmp_path: Path) -> None:
    """`import run` starts without the web server, the job queue or the S3 object-lock
    client in memory (about 20 MB less): each command's module is loaded when it runs."""
    probe = (
        "import sys\n"
        "from callarchive.cli import cli\n"
        "cli(['import', 'run', '--help'], prog_name='callarchive', standalone_mode=False)\n"
        "heavy = ('uvicorn', 'starlette', 'procrastinate', 'botocore', 'callarchive.web')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    env = {**os.environ, "CALLARCHIVE_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert "--until-caught-up" in result.stdout  # the command's own help
    assert result.stdout.splitlines()[-1] == "[]"
    listed = subprocess.run(
        [sys.executable, "-m", "callarchive.cli", "--help"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    commands = listed.stdout.split("Commands:")[1]
    for name in ("import", "retry-buffer", "serve", "worker", "verify", "hold"):
        assert f"\n  {name} " in commands, commands


def test_user_password_stores_only_a_hash_that_signs_in(installation: Installation) -> None:
    assert installation.run("user", "add", "--login", "ada", "--name", "Ada").exit_code == 0
    short = installation.run("user", "password", "ada", "--password-stdin", input="short\n")
    assert short.exit_code == 2
    assert "at least 12 characters" in short.stderr
    result = installation.run(
        "user", "password", "ada", "--password-stdin", input="a good long password\n"
    )
    assert result.exit_code == 0, result.output
    unknown = installation.run("user", "password", "nobody", "--password-stdin", input="x" * 20)
    assert unknown.exit_code == 2

    async def stored_hash() -> str | None:
        async with installation.wiring().archive() as archive:
            account = await archive.accounts.get("ada")
            return account.password_hash if account else None

    stored = asyncio.run(stored_hash())
    assert stored is not None
    assert "a good long password" not in stored
    assert verify_password(stored, "a good long password")
