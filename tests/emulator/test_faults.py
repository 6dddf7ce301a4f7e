"""Fault profiles: how the emulated service and network misbehave when asked to.

Every profile runs at rate 1.0, which makes it fire on every request, and is switched on both
through the control API (`POST /_emulator/faults`) and through the configuration
(`make_emulator(faults=...)`, what `--faults` sets).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from genesys_emulator.__main__ import parser
from tests.emulator.conftest import EmulatorFactory
from tests.emulator.harness import RunningEmulator, assert_valid, recorded_conversation

USERS = "/api/v2/users?pageSize=1"
HOW = pytest.mark.parametrize("how", ["control", "config"])


def _faulty(
    make_emulator: EmulatorFactory, how: str, profile: str, **config: Any
) -> tuple[RunningEmulator, str]:
    """An emulator with `profile` switched on `how`, and a token issued before that."""
    if how == "config":
        emulator = make_emulator(faults=profile, **config)
        return emulator, emulator.token()
    emulator = make_emulator(**config)
    token = emulator.token()
    emulator.control("POST", "faults", json={"profile": profile})
    return emulator, token


def _get(emulator: RunningEmulator, token: str, path: str = USERS, **kw: Any) -> httpx.Response:
    with emulator.api(token) as api:
        return api.get(path, **kw)


def _recording_path(emulator: RunningEmulator) -> str:
    conversation = recorded_conversation(emulator.ground_truth())
    recording_id = conversation["recordings"][0]["recording_id"]
    return f"/api/v2/conversations/{conversation['conversation_id']}/recordings/{recording_id}"


def _media_url(emulator: RunningEmulator, token: str) -> str:
    response = _get(emulator, token, _recording_path(emulator), params={"formatId": "WAV"})
    assert response.status_code == 200, response.text
    return str(response.json()["mediaUris"]["S"]["mediaUri"])


def _read_into(received: bytearray, response: httpx.Response) -> None:
    for chunk in response.iter_raw():
        received.extend(chunk)


# -- API faults --------------------------------------------------------------------------------


@HOW
def test_rate_limit_burst_answers_429_with_retry_after(make_emulator: EmulatorFactory, how: str):
    emulator, token = _faulty(make_emulator, how, "rate-limit-burst:1.0")

    response = _get(emulator, token)

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["code"] == "too.many.requests.retry.after"
    assert_valid(response.json(), "ErrorBody")


def test_server_errors_answer_502_503_or_504(make_emulator: EmulatorFactory):
    emulator, token = _faulty(make_emulator, "control", "server-errors:1.0")

    responses = [_get(emulator, token) for _ in range(6)]

    assert {r.status_code for r in responses} <= {502, 503, 504}
    for response in responses:
        assert_valid(response.json(), "ErrorBody")
        assert response.json()["status"] == response.status_code


@HOW
def test_internal_errors_answer_500(make_emulator: EmulatorFactory, how: str):
    emulator, token = _faulty(make_emulator, how, "internal-errors:1.0")

    response = _get(emulator, token)

    assert response.status_code == 500
    assert response.json()["code"] == "internal.server.error"
    assert_valid(response.json(), "ErrorBody")


def test_connection_resets_drop_the_connection_mid_response(make_emulator: EmulatorFactory):
    emulator, token = _faulty(make_emulator, "control", "connection-resets:1.0")

    with pytest.raises(httpx.TransportError):
        _get(emulator, token)


def test_server_errors_from_the_configuration_also_hit_the_login_host(
    make_emulator: EmulatorFactory,
):
    emulator = make_emulator(faults="server-errors:1.0")

    response = emulator.login()

    assert response.status_code in {502, 503, 504}
    assert_valid(response.json(), "ErrorBody")


def test_connection_resets_from_the_configuration_also_hit_the_login_host(
    make_emulator: EmulatorFactory,
):
    emulator = make_emulator(faults="connection-resets:1.0")

    with pytest.raises(httpx.TransportError):
        emulator.login()


@HOW
def test_slow_responses_outlast_a_short_client_timeout(make_emulator: EmulatorFactory, how: str):
    emulator, token = _faulty(make_emulator, how, "slow:1.0", slow_ms=300)

    headers = {"Authorization": f"Bearer {token}"}
    with (
        httpx.Client(base_url=emulator.base_url, headers=headers, timeout=0.1) as impatient,
        pytest.raises(httpx.ReadTimeout),
    ):
        impatient.get(USERS)


@HOW
def test_slow_responses_still_succeed(make_emulator: EmulatorFactory, how: str):
    emulator, token = _faulty(make_emulator, how, "slow:1.0", slow_ms=300)

    assert _get(emulator, token).status_code == 200


@HOW
def test_malformed_json_answers_200_with_a_body_that_is_not_json(
    make_emulator: EmulatorFactory, how: str
):
    emulator, token = _faulty(make_emulator, how, "malformed-json:1.0")

    response = _get(emulator, token)

    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


@HOW
def test_token_revocation_answers_401(make_emulator: EmulatorFactory, how: str):
    emulator, token = _faulty(make_emulator, how, "token-revocation:1.0")

    response = _get(emulator, token)

    assert response.status_code == 401
    assert response.json()["code"] == "bad.credentials"


# -- media and transcoding faults --------------------------------------------------------------


@HOW
def test_truncated_media_ends_short_of_its_content_length(make_emulator: EmulatorFactory, how: str):
    emulator, token = _faulty(make_emulator, how, "truncated-media:1.0")
    url = _media_url(emulator, token)
    received = bytearray()

    with httpx.Client(timeout=30) as http, http.stream("GET", url) as response:
        announced = int(response.headers["Content-Length"])
        with pytest.raises(httpx.RemoteProtocolError):
            _read_into(received, response)

    assert 0 < len(received) < announced


def test_media_connection_resets_drop_the_download(make_emulator: EmulatorFactory):
    emulator = make_emulator()
    token = emulator.token()
    url = _media_url(emulator, token)
    emulator.control("POST", "faults", json={"profile": "connection-resets:1.0"})

    with httpx.Client(timeout=30) as http, pytest.raises(httpx.TransportError):
        http.get(url)


def test_media_server_errors_answer_503(make_emulator: EmulatorFactory):
    emulator = make_emulator()
    url = _media_url(emulator, emulator.token())
    emulator.control("POST", "faults", json={"profile": "server-errors:1.0"})

    with httpx.Client(timeout=30) as http:
        assert http.get(url).status_code == 503


@HOW
def test_stuck_transcode_keeps_recordings_202_for_a_day(make_emulator: EmulatorFactory, how: str):
    emulator, _ = _faulty(make_emulator, how, "stuck-transcode:1.0")
    path = _recording_path(emulator)

    emulator.advance(86_400)

    response = _get(emulator, emulator.token(), path, params={"formatId": "WAV"})
    assert response.status_code == 202
    assert "mediaUris" not in response.json()


# -- switching profiles ------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["bogus", "slow:2", "slow:-0.1", "slow:often", "server-errors,x"])
def test_control_api_refuses_an_unknown_or_malformed_profile(emulator: RunningEmulator, spec: str):
    with emulator.client() as http:
        response = http.post("/_emulator/faults", json={"profile": spec})

    assert response.status_code == 400
    assert response.json()["error"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param("bogus", "unknown fault profile 'bogus'", id="unknown"),
        pytest.param("slow:2", "between 0 and 1", id="rate-above-one"),
        pytest.param("slow:often", "between 0 and 1", id="rate-not-a-number"),
    ],
)
def test_command_line_refuses_an_unknown_or_malformed_profile(
    capsys: pytest.CaptureFixture[str], spec: str, message: str
):
    with pytest.raises(SystemExit) as exit_info:
        parser().parse_args(["--faults", spec])

    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_refused_profile_leaves_the_active_one_on(emulator: RunningEmulator):
    emulator.control("POST", "faults", json={"profile": "slow:0.5"})

    with emulator.client() as http:
        http.post("/_emulator/faults", json={"profile": "bogus"})

    assert emulator.control("GET", "faults")["profile"] == "slow:0.5"


@pytest.mark.parametrize("off", ["none", ""])
def test_none_or_empty_profile_switches_faults_off(make_emulator: EmulatorFactory, off: str):
    emulator, token = _faulty(make_emulator, "control", "internal-errors:1.0")

    answer = emulator.control("POST", "faults", json={"profile": off})

    assert answer["profile"] == ""
    assert _get(emulator, token).status_code == 200


def test_active_profile_from_the_control_api_is_reported(emulator: RunningEmulator):
    emulator.control("POST", "faults", json={"profile": "server-errors:0.25,slow"})

    assert emulator.control("GET", "faults")["profile"] == "server-errors:0.25,slow:0.05"


def test_active_profile_from_the_configuration_is_reported(make_emulator: EmulatorFactory):
    emulator = make_emulator(faults="server-errors:0.25,slow")

    assert emulator.control("GET", "faults")["profile"] == "server-errors:0.25,slow:0.05"


def test_chaos_switches_on_every_profile(emulator: RunningEmulator):
    emulator.control("POST", "faults", json={"profile": "chaos"})

    profile = emulator.control("GET", "faults")["profile"]

    assert {part.split(":")[0] for part in profile.split(",")} == {
        "rate-limit-burst",
        "server-errors",
        "internal-errors",
        "connection-resets",
        "slow",
        "truncated-media",
        "malformed-json",
        "stuck-transcode",
        "token-revocation",
    }


def test_no_faults_by_default(emulator: RunningEmulator):
    assert emulator.control("GET", "faults")["profile"] == ""
