"""Batch downloads: submission, status, results in the trunk codec and their rules (§4).

Tests of refused submissions share one emulator (`org`); the others start their own.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from genesys_emulator import ALL_PERMISSIONS
from tests.emulator.conftest import BASE, EmulatorFactory
from tests.emulator.harness import (
    RunningEmulator,
    assert_valid,
    conversation_truth,
    inject_call,
    recorded_conversation,
    serve,
)

BATCH = "/api/v2/recording/batchrequests"
UNKNOWN = "0f0e0d0c-0b0a-4908-8706-050403020100"


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    config = dataclasses.replace(BASE, cache_dir=str(tmp_path_factory.mktemp("media")))
    with serve(config) as emulator:
        yield emulator


def _submit(emulator: RunningEmulator, items: list[dict[str, Any]], token: str) -> str:
    with emulator.api(token) as api:
        response = api.post(BATCH, json={"batchDownloadRequestList": items})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def _status(emulator: RunningEmulator, job_id: str, token: str) -> httpx.Response:
    with emulator.api(token) as api:
        return api.get(f"{BATCH}/{job_id}")


def _results(
    emulator: RunningEmulator, items: list[dict[str, Any]], token: str | None = None
) -> list[dict[str, Any]]:
    """Submit `items`, let the job complete and return its results."""
    token = token or emulator.token()
    job_id = _submit(emulator, items, token)
    emulator.advance(emulator.config.batch_delay_s)
    body = _status(emulator, job_id, token).json()
    assert body["status"] == "Completed"
    return list(body["results"])


def _item(conversation: dict[str, Any], index: int = 0) -> dict[str, str]:
    recording_id = conversation["recordings"][index]["recording_id"]
    return {"conversationId": conversation["conversation_id"], "recordingId": recording_id}


def _add_client(emulator: RunningEmulator, name: str, permissions: set[str]) -> str:
    secret = f"{name}-secret"
    client = {"client_id": name, "client_secret": secret, "permissions": sorted(permissions)}
    emulator.control("POST", "clients", json=client)
    return emulator.token(name, secret)


def test_submission_returns_the_job_id(emulator: RunningEmulator):
    conversation = recorded_conversation(emulator.ground_truth())

    with emulator.api() as api:
        response = api.post(BATCH, json={"batchDownloadRequestList": [_item(conversation)]})

    assert response.status_code == 200
    assert_valid(response.json(), "BatchDownloadJobSubmissionResult")
    assert response.json()["selfUri"] == f"{BATCH}/{response.json()['id']}"


def test_job_is_in_progress_before_batch_delay_s(emulator: RunningEmulator):
    token = emulator.token()
    job_id = _submit(emulator, [_item(recorded_conversation(emulator.ground_truth()))], token)

    body = _status(emulator, job_id, token).json()

    assert_valid(body, "BatchDownloadJobStatusResult")
    assert body["status"] == "InProgress"
    assert body["expectedResultCount"] == 1
    assert body["resultCount"] == 0


def test_job_is_completed_after_batch_delay_s(emulator: RunningEmulator):
    token = emulator.token()
    job_id = _submit(emulator, [_item(recorded_conversation(emulator.ground_truth()))], token)

    emulator.advance(emulator.config.batch_delay_s)

    body = _status(emulator, job_id, token).json()
    assert_valid(body, "BatchDownloadJobStatusResult")
    assert body["status"] == "Completed"
    assert body["jobId"] == body["id"] == job_id
    assert body["resultCount"] == body["expectedResultCount"] == len(body["results"]) == 1
    assert body["errorCount"] == 0


def test_omitted_recording_id_yields_every_recording_of_the_conversation(
    emulator: RunningEmulator,
):
    conversation = recorded_conversation(emulator.ground_truth(), recordings=2)

    results = _results(emulator, [{"conversationId": conversation["conversation_id"]}])

    assert sorted(r["recordingId"] for r in results) == sorted(
        r["recording_id"] for r in conversation["recordings"]
    )
    assert all("resultUrl" in r for r in results)


def test_recording_id_picks_one_recording(emulator: RunningEmulator):
    conversation = recorded_conversation(emulator.ground_truth(), recordings=2)

    results = _results(emulator, [_item(conversation, 1)])

    assert [r["recordingId"] for r in results] == [conversation["recordings"][1]["recording_id"]]


@pytest.mark.parametrize("trunk_codec", ["WAV", "OGG_OPUS", "MP3"])
def test_result_url_downloads_the_trunk_codec_bytes(
    make_emulator: EmulatorFactory, trunk_codec: str
):
    emulator = make_emulator(trunk_codec=trunk_codec)
    conversation = recorded_conversation(emulator.ground_truth())
    truth = conversation_truth(emulator, conversation, trunk_codec)["recordings"][0]
    (result,) = _results(emulator, [_item(conversation)])

    with httpx.Client(timeout=30) as http:
        response = http.get(result["resultUrl"])

    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == truth["formats"][trunk_codec]["sha256"]
    assert result["contentType"] == truth["formats"][trunk_codec]["content_type"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"batchDownloadRequestList": []}, id="empty-list"),
        pytest.param(
            {"batchDownloadRequestList": [{"conversationId": UNKNOWN}] * 101}, id="101-items"
        ),
        pytest.param({}, id="no-list"),
        pytest.param(
            {"batchDownloadRequestList": [{"recordingId": UNKNOWN}]}, id="no-conversation"
        ),
    ],
)
def test_malformed_submission_is_400(org: RunningEmulator, body: dict[str, Any]):
    with org.api() as api:
        response = api.post(BATCH, json=body)

    assert response.status_code == 400
    assert_valid(response.json(), "ErrorBody")


def test_one_hundred_items_are_accepted(org: RunningEmulator):
    with org.api() as api:
        response = api.post(
            BATCH, json={"batchDownloadRequestList": [{"conversationId": UNKNOWN}] * 100}
        )

    assert response.status_code == 200


def test_job_of_another_client_is_403(emulator: RunningEmulator):
    job_id = _submit(emulator, [{"conversationId": UNKNOWN}], emulator.token())
    other = _add_client(emulator, "other", set(ALL_PERMISSIONS))

    response = _status(emulator, job_id, other)

    assert response.status_code == 403
    assert_valid(response.json(), "ErrorBody")


def test_unknown_job_is_404(org: RunningEmulator):
    response = _status(org, UNKNOWN, org.token())

    assert response.status_code == 404
    assert_valid(response.json(), "ErrorBody")


def test_submission_without_recording_view_is_403(emulator: RunningEmulator):
    token = _add_client(emulator, "blind", set(ALL_PERMISSIONS) - {"recording:recording:view"})

    with emulator.api(token) as api:
        response = api.post(BATCH, json={"batchDownloadRequestList": [{"conversationId": UNKNOWN}]})

    assert response.status_code == 403
    assert response.json()["code"] == "missing.permissions"


@pytest.mark.parametrize(
    ("permissions", "expected"),
    [
        pytest.param(ALL_PERMISSIONS, 1, id="with-view-sensitive-data"),
        pytest.param(ALL_PERMISSIONS - {"recording:recording:viewSensitiveData"}, 0, id="without"),
    ],
)
def test_sensitive_recordings_are_left_out_without_view_sensitive_data(
    make_emulator: EmulatorFactory, permissions: frozenset[str], expected: int
):
    emulator = make_emulator(sensitive_ratio=1.0)
    conversation = recorded_conversation(emulator.ground_truth())
    assert conversation["recordings"][0]["sensitive"]
    token = _add_client(emulator, "auditor", set(permissions))

    results = _results(emulator, [_item(conversation)], token)

    assert len(results) == expected
    assert all("errorMsg" not in r for r in results)


def test_uploading_recording_gives_a_result_with_error_msg(emulator: RunningEmulator):
    call = inject_call(emulator, ended_s_ago=1)

    (result,) = _results(emulator, [{"conversationId": call["conversation_id"]}])

    assert result["errorMsg"]
    assert result["recordingId"] == call["recording_ids"][0]
    assert "resultUrl" not in result


@pytest.mark.parametrize(
    "recording_id",
    [pytest.param(None, id="unknown-conversation"), pytest.param(UNKNOWN, id="unknown-recording")],
)
def test_unknown_conversation_or_recording_gives_a_result_with_error_msg(
    emulator: RunningEmulator, recording_id: str | None
):
    conversation_id = (
        UNKNOWN
        if recording_id is None
        else recorded_conversation(emulator.ground_truth())["conversation_id"]
    )
    item = {"conversationId": conversation_id, "recordingId": recording_id}

    (result,) = _results(emulator, [{k: v for k, v in item.items() if v is not None}])

    assert result["errorMsg"]
    assert result["conversationId"] == conversation_id
    assert "resultUrl" not in result


def test_error_results_are_counted(emulator: RunningEmulator):
    conversation = recorded_conversation(emulator.ground_truth())
    token = emulator.token()
    job_id = _submit(emulator, [_item(conversation), {"conversationId": UNKNOWN}], token)
    emulator.advance(emulator.config.batch_delay_s)

    body = _status(emulator, job_id, token).json()

    assert body["resultCount"] == 2
    assert body["errorCount"] == 1
