"""Retention: deleting through deleteDate, its permission, archived recordings and restores (§5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from genesys_emulator import ALL_PERMISSIONS
from tests.emulator.conftest import EmulatorFactory
from tests.emulator.harness import RunningEmulator, assert_valid, recorded_conversation

EDIT_RETENTION = "recording:recording:editRetention"
RESTORE = "recording:recording:restore"


def _first(emulator: RunningEmulator) -> tuple[str, str]:
    """The conversation and recording ids of the org's first single-recording conversation."""
    conversation = recorded_conversation(emulator.ground_truth())
    return conversation["conversation_id"], conversation["recordings"][0]["recording_id"]


def _recording_path(ids: tuple[str, str]) -> str:
    return f"/api/v2/conversations/{ids[0]}/recordings/{ids[1]}"


def _metadata(emulator: RunningEmulator, ids: tuple[str, str]) -> dict[str, Any]:
    with emulator.api() as api:
        response = api.get(f"/api/v2/conversations/{ids[0]}/recordingmetadata/{ids[1]}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _recording(emulator: RunningEmulator, ids: tuple[str, str], format_id: str) -> httpx.Response:
    with emulator.api() as api:
        return api.get(_recording_path(ids), params={"formatId": format_id})


def _put(
    emulator: RunningEmulator, ids: tuple[str, str], body: dict[str, str], token: str | None = None
) -> httpx.Response:
    with emulator.api(token) as api:
        return api.put(_recording_path(ids), json=body)


def _in(emulator: RunningEmulator, seconds: float) -> str:
    """The ISO-8601 instant `seconds` from the emulator's now (negative: in the past)."""
    return (emulator.now() + dt.timedelta(seconds=seconds)).isoformat()


def _same_instant(genesys: str, iso: str) -> bool:
    delta = dt.datetime.fromisoformat(genesys) - dt.datetime.fromisoformat(iso)
    return abs(delta) < dt.timedelta(milliseconds=1)


def _download(url: str) -> httpx.Response:
    with httpx.Client(timeout=30) as http:
        return http.get(url)


def _client_without(emulator: RunningEmulator, permission: str) -> str:
    emulator.control(
        "POST",
        "clients",
        json={
            "client_id": "limited",
            "client_secret": "limited-secret",
            "permissions": sorted(ALL_PERMISSIONS - {permission}),
        },
    )
    return emulator.token("limited", "limited-secret")


# -- deleteDate --------------------------------------------------------------------------------


def test_future_delete_date_keeps_the_recording_available(emulator: RunningEmulator):
    ids = _first(emulator)
    delete_date = _in(emulator, 3600)

    response = _put(emulator, ids, {"deleteDate": delete_date})

    assert response.status_code == 200
    assert_valid(response.json(), "Recording")
    assert response.json()["fileState"] == "AVAILABLE"
    assert _same_instant(response.json()["deleteDate"], delete_date)


def test_delete_date_is_shown_in_the_metadata(emulator: RunningEmulator):
    ids = _first(emulator)
    delete_date = _in(emulator, 3600)

    _put(emulator, ids, {"deleteDate": delete_date})

    assert _same_instant(_metadata(emulator, ids)["deleteDate"], delete_date)


def test_recording_is_deleted_once_the_clock_passes_its_delete_date(emulator: RunningEmulator):
    ids = _first(emulator)
    _put(emulator, ids, {"deleteDate": _in(emulator, 60)})

    emulator.advance(61)

    metadata = _metadata(emulator, ids)
    assert metadata["fileState"] == "DELETED"
    assert_valid(metadata, "RecordingMetadata")


def test_deleted_recording_has_no_media_uris(emulator: RunningEmulator):
    ids = _first(emulator)
    _put(emulator, ids, {"deleteDate": _in(emulator, 60)})
    emulator.advance(61)

    response = _recording(emulator, ids, "WAV")

    assert response.json()["fileState"] == "DELETED"
    assert "mediaUris" not in response.json()


def test_media_url_of_a_deleted_recording_is_404(emulator: RunningEmulator):
    ids = _first(emulator)
    url = _recording(emulator, ids, "WAV").json()["mediaUris"]["S"]["mediaUri"]
    _put(emulator, ids, {"deleteDate": _in(emulator, 60)})

    emulator.advance(61)

    assert _download(url).status_code == 404


def test_past_delete_date_deletes_at_once(emulator: RunningEmulator):
    ids = _first(emulator)

    response = _put(emulator, ids, {"deleteDate": _in(emulator, -60)})

    assert response.status_code == 200
    assert response.json()["fileState"] == "DELETED"
    assert _metadata(emulator, ids)["fileState"] == "DELETED"


def test_malformed_delete_date_is_400(emulator: RunningEmulator):
    response = _put(emulator, _first(emulator), {"deleteDate": "next tuesday"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid.date"
    assert_valid(response.json(), "ErrorBody")


def test_setting_delete_date_without_edit_retention_is_403_missing_permissions(
    emulator: RunningEmulator,
):
    ids = _first(emulator)
    token = _client_without(emulator, EDIT_RETENTION)

    response = _put(emulator, ids, {"deleteDate": _in(emulator, 60)}, token)

    assert response.status_code == 403
    body = response.json()
    assert_valid(body, "ErrorBody")
    assert body["code"] == "missing.permissions"
    assert body["status"] == 403
    assert EDIT_RETENTION in body["message"]
    assert body["messageWithParams"]
    assert EDIT_RETENTION in body["messageParams"].values()
    assert body["contextId"] == response.headers["ININ-Correlation-Id"]
    assert _metadata(emulator, ids)["fileState"] == "AVAILABLE"


# -- archived recordings -----------------------------------------------------------------------


@pytest.fixture
def archiving(make_emulator: EmulatorFactory) -> RunningEmulator:
    """An org whose recordings are archived one day after they end; restores take an hour."""
    return make_emulator(archive_after_days=1, restore_s=3600)


def test_recording_older_than_archive_after_days_is_archived(archiving: RunningEmulator):
    metadata = _metadata(archiving, _first(archiving))

    assert metadata["fileState"] == "ARCHIVED"
    assert metadata["archiveMedium"] == "CLOUDARCHIVE"
    assert dt.datetime.fromisoformat(metadata["archiveDate"]) <= archiving.now()
    assert_valid(metadata, "RecordingMetadata")


def test_archived_recording_has_no_media_uris(archiving: RunningEmulator):
    response = _recording(archiving, _first(archiving), "WAV")

    assert response.json()["fileState"] == "ARCHIVED"
    assert "mediaUris" not in response.json()


def test_archived_recording_gives_a_batch_result_with_error_msg(archiving: RunningEmulator):
    ids = _first(archiving)
    item = {"conversationId": ids[0], "recordingId": ids[1]}
    with archiving.api() as api:
        job = api.post("/api/v2/recording/batchrequests", json={"batchDownloadRequestList": [item]})
        archiving.advance(archiving.config.batch_delay_s)
        (result,) = api.get(job.json()["selfUri"]).json()["results"]

    assert result["errorMsg"]
    assert "resultUrl" not in result


def test_new_archive_date_on_an_archived_recording_starts_a_restore(archiving: RunningEmulator):
    ids = _first(archiving)

    response = _put(archiving, ids, {"archiveDate": _in(archiving, 30 * 86_400)})

    assert response.status_code == 200
    assert response.json()["fileState"] == "RESTORING"
    assert _metadata(archiving, ids)["fileState"] == "RESTORING"


def test_restore_takes_restore_s(archiving: RunningEmulator):
    ids = _first(archiving)
    _put(archiving, ids, {"archiveDate": _in(archiving, 30 * 86_400)})

    archiving.advance(3540)  # a minute short: the emulator's clock runs in real time too

    assert _metadata(archiving, ids)["fileState"] == "RESTORING"


def test_restored_recording_is_downloadable(archiving: RunningEmulator):
    ids = _first(archiving)
    _put(archiving, ids, {"archiveDate": _in(archiving, 30 * 86_400)})

    archiving.advance(3601)

    response = _recording(archiving, ids, "WAV")
    assert response.status_code == 200
    assert response.json()["fileState"] == "RESTORED"
    assert_valid(response.json(), "Recording")
    assert _download(response.json()["mediaUris"]["S"]["mediaUri"]).status_code == 200


def test_restored_recording_is_archived_again_at_its_new_archive_date(archiving: RunningEmulator):
    ids = _first(archiving)
    _put(archiving, ids, {"archiveDate": _in(archiving, 2 * 3600)})

    archiving.advance(2 * 3600 + 1)

    assert _metadata(archiving, ids)["fileState"] == "ARCHIVED"


def test_restoring_without_the_restore_permission_is_403(archiving: RunningEmulator):
    ids = _first(archiving)
    token = _client_without(archiving, RESTORE)

    response = _put(archiving, ids, {"archiveDate": _in(archiving, 86_400)}, token)

    assert response.status_code == 403
    assert response.json()["messageParams"] == {"perms": RESTORE}
    assert _metadata(archiving, ids)["fileState"] == "ARCHIVED"


def test_restoring_needs_no_edit_retention_permission(archiving: RunningEmulator):
    token = _client_without(archiving, EDIT_RETENTION)

    response = _put(archiving, _first(archiving), {"archiveDate": _in(archiving, 86_400)}, token)

    assert response.status_code == 200
    assert response.json()["fileState"] == "RESTORING"
