"""`python -m genesys_emulator`: flags, the start-up banner and a served org, as a real process."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

COMMAND = [sys.executable, "-m", "genesys_emulator"]
YESTERDAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


@dataclass(frozen=True, kw_only=True, slots=True)
class Served:
    """A running emulator process: what it printed up to LISTENING, and its URL."""

    banner: list[str]
    url: str
    # Why a connection attempted the moment LISTENING was read failed (None: it succeeded).
    first_connection_error: str | None


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    args = [
        *("--port", "0", "--seed", "3", "--days", "1", "--start", YESTERDAY.isoformat()),
        *("--calls-per-hour", "5", "--mean-call-seconds", "5"),
        *("--client-id", "cli-client", "--client-secret", "cli-secret"),
    ]
    errors = tmp_path_factory.mktemp("cli") / "stderr.txt"
    with (
        errors.open("w") as stderr,
        subprocess.Popen(
            [*COMMAND, *args], stdout=subprocess.PIPE, stderr=stderr, text=True
        ) as process,
    ):
        assert process.stdout is not None
        try:
            banner = []
            for line in process.stdout:
                banner.append(line.rstrip("\n"))
                if line.startswith("LISTENING "):
                    break
            printed = "\n".join(banner) + errors.read_text()
            assert banner, printed
            assert banner[-1].startswith("LISTENING "), printed
            url = banner[-1].removeprefix("LISTENING ")
            yield Served(banner=banner, url=url, first_connection_error=_connect(url))
        finally:
            process.terminate()
            process.wait(timeout=30)


def _connect(url: str) -> str | None:
    parsed = httpx.URL(url)
    try:
        socket.create_connection((parsed.host, parsed.port or 80), timeout=10).close()
    except OSError as error:
        return str(error)
    return None


@pytest.fixture(scope="module")
def help_text() -> str:
    return subprocess.run(
        [*COMMAND, "--help"], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def test_banner_names_the_client_id_and_secret(served: Served):
    text = "\n".join(served.banner)

    assert "cli-client" in text
    assert "cli-secret" in text


def test_listening_line_gives_a_loopback_url_with_the_picked_port(served: Served):
    url = httpx.URL(served.url)

    assert url.scheme == "http"
    assert url.host == "127.0.0.1"
    assert url.port


def test_port_accepts_connections_once_listening_is_printed(served: Served):
    assert served.first_connection_error is None


def test_served_org_issues_a_token_and_answers_a_details_query(served: Served):
    day = f"{YESTERDAY.isoformat()}T00:00:00.000Z"
    next_day = f"{(YESTERDAY + dt.timedelta(days=1)).isoformat()}T00:00:00.000Z"
    with httpx.Client(base_url=served.url, timeout=30) as http:
        login = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("cli-client", "cli-secret"),
        )
        assert login.status_code == 200, login.text
        response = http.post(
            "/api/v2/analytics/conversations/details/query",
            json={"interval": f"{day}/{next_day}", "paging": {"pageSize": 100, "pageNumber": 1}},
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
        )

    assert response.status_code == 200, response.text
    assert response.json()["totalHits"] > 0


@pytest.mark.parametrize(
    "flag",
    [
        # DESIGN.md section 8
        "--port",
        "--seed",
        "--start",
        "--days",
        "--calls-per-hour",
        "--mean-call-seconds",
        "--client-id",
        "--client-secret",
        "--latency-ms",
        "--rate-limit-per-minute",
        "--faults",
        # the emulator's own
        "--host",
        "--users",
        "--trunk-codec",
        "--transcode-ms",
        "--url-ttl-s",
        "--token-ttl-s",
        "--min-call-seconds",
        "--max-call-seconds",
        "--media-bandwidth-kbps",
    ],
)
def test_help_lists_the_flag(help_text: str, flag: str):
    assert f"{flag} " in help_text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--faults", "bogus"], "unknown fault profile 'bogus'", id="faults"),
        pytest.param(["--trunk-codec", "FLAC"], "expected one of WAV", id="trunk-codec"),
        pytest.param(["--start", "2026-13-01"], "expected YYYY-MM-DD", id="start"),
        pytest.param(["--port", "eighty"], "invalid int value", id="port"),
    ],
)
def test_bad_flag_exits_with_code_2_and_says_why(args: list[str], message: str):
    result = subprocess.run(
        [*COMMAND, *args], capture_output=True, text=True, check=False, timeout=60
    )

    assert result.returncode == 2
    assert f"argument {args[0]}" in result.stderr
    assert message in result.stderr
