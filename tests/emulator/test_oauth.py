"""The login host: the client-credentials grant, token lifetime and revocation (reference §1).

Tests that neither move the clock, revoke tokens nor count requests share one emulator (`org`).
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator

import httpx
import pytest

from tests.emulator.conftest import BASE, EmulatorFactory
from tests.emulator.harness import RunningEmulator, assert_valid, serve

USERS = "/api/v2/users?pageSize=1"


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    config = dataclasses.replace(BASE, cache_dir=str(tmp_path_factory.mktemp("media")))
    with serve(config) as emulator:
        yield emulator


def _post_token(
    emulator: RunningEmulator, authorization: str | None, form: dict[str, str]
) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    with emulator.client() as http:
        return http.post("/oauth/token", data=form, headers=headers)


def _basic(pair: str) -> str:
    return "Basic " + base64.b64encode(pair.encode()).decode()


def _get(emulator: RunningEmulator, token: str, path: str = USERS) -> httpx.Response:
    with emulator.api(token) as api:
        return api.get(path)


def test_token_response_is_a_bearer_token_living_token_ttl_s(make_emulator: EmulatorFactory):
    emulator = make_emulator(token_ttl_s=7200)

    response = emulator.login()

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 7200
    assert isinstance(body["access_token"], str)
    assert body["access_token"]


def test_client_credentials_token_comes_without_refresh_token(org: RunningEmulator):
    body = org.login().json()

    assert set(body) == {"access_token", "token_type", "expires_in"}


def test_issued_token_authorizes_api_requests(org: RunningEmulator):
    assert _get(org, org.token()).status_code == 200


def test_each_login_issues_a_new_token(org: RunningEmulator):
    assert org.token() != org.token()


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(_basic("callarchive-demo:wrong-secret"), id="wrong-secret"),
        pytest.param(_basic("someone-else:demo-secret-change-me"), id="unknown-client"),
        pytest.param(_basic("callarchive-demo"), id="no-secret"),
        pytest.param("Basic not*base64", id="malformed-base64"),
        pytest.param("Bearer abc", id="not-basic"),
        pytest.param(None, id="no-authorization"),
    ],
)
def test_bad_client_credentials_are_401_invalid_client(
    org: RunningEmulator, authorization: str | None
):
    response = _post_token(org, authorization, {"grant_type": "client_credentials"})

    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["description"]
    assert body["error_description"] == body["description"]


@pytest.mark.parametrize(
    "form",
    [
        pytest.param({"grant_type": "password"}, id="password"),
        pytest.param({"grant_type": "authorization_code"}, id="authorization-code"),
        pytest.param({"grant_type": "CLIENT_CREDENTIALS"}, id="wrong-case"),
        pytest.param({}, id="missing"),
    ],
)
def test_grant_other_than_client_credentials_is_400_unsupported_grant_type(
    org: RunningEmulator, form: dict[str, str]
):
    authorization = _basic(f"{org.config.client_id}:{org.config.client_secret}")

    response = _post_token(org, authorization, form)

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "unsupported_grant_type"
    assert body["error_description"] == body["description"]


def test_token_still_works_before_token_ttl_s(make_emulator: EmulatorFactory):
    emulator = make_emulator(token_ttl_s=60)
    token = emulator.token()

    emulator.advance(45)  # the emulator's clock runs in real time too: a margin for slow runs

    assert _get(emulator, token).status_code == 200


def test_token_expires_after_token_ttl_s(make_emulator: EmulatorFactory):
    emulator = make_emulator(token_ttl_s=60)
    token = emulator.token()

    emulator.advance(61)

    response = _get(emulator, token)
    assert response.status_code == 401
    assert response.json()["code"] == "bad.credentials"
    assert_valid(response.json(), "ErrorBody")


def test_new_token_works_after_the_old_one_expired(make_emulator: EmulatorFactory):
    emulator = make_emulator(token_ttl_s=60)
    emulator.token()
    emulator.advance(61)

    assert _get(emulator, emulator.token()).status_code == 200


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        pytest.param({}, "authentication.required", id="no-authorization"),
        pytest.param({"Authorization": "Bearer made-up"}, "bad.credentials", id="unknown-token"),
        pytest.param({"Authorization": "Basic abc"}, "bad.credentials", id="not-bearer"),
    ],
)
def test_api_request_without_a_live_token_is_401(
    org: RunningEmulator, headers: dict[str, str], code: str
):
    with org.client(headers=headers) as http:
        response = http.get(USERS)

    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response.json()["contextId"] == response.headers["ININ-Correlation-Id"]
    assert_valid(response.json(), "ErrorBody")


def test_revoked_tokens_are_401_bad_credentials(emulator: RunningEmulator):
    tokens = [emulator.token(), emulator.token()]

    answer = emulator.control("POST", "faults", json={"revoke_tokens": True})

    assert answer["revoked_tokens"] == 2
    for token in tokens:
        response = _get(emulator, token)
        assert response.status_code == 401
        assert response.json()["code"] == "bad.credentials"


def test_token_issued_after_revocation_works(emulator: RunningEmulator):
    emulator.token()
    emulator.control("POST", "faults", json={"revoke_tokens": True})

    assert _get(emulator, emulator.token()).status_code == 200


def test_stats_count_issued_tokens(emulator: RunningEmulator):
    emulator.token()
    emulator.token()
    emulator.login(secret="wrong")

    assert emulator.stats()["tokens_issued"] == 2
