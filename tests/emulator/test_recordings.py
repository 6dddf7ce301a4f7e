"""Recording metadata, recordings in every format, transcoding, upload delay and the media host.

Reference §3: `GET …/recordingmetadata`, `GET …/recordings?formatId=` (202 while transcoding,
`mediaUris` only when the media is playable) and the pre-signed, expiring media URLs that are
fetched without the Genesys bearer token. Tests that neither move the clock nor count requests
share one emulator (`org`); the others start their own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from collections.abc import Iterator
from typing import Any

import av
import httpx
import pytest

from tests.emulator.conftest import BASE, EmulatorFactory
from tests.emulator.harness import (
    RunningEmulator,
    assert_valid,
    conversation_truth,
    inject_call,
    recorded_conversation,
    serve,
)

FORMATS = ("WAV", "WEBM", "WAV_ULAW", "OGG_VORBIS", "OGG_OPUS", "MP3")
EXTENSIONS = {
    "WAV": "wav",
    "WEBM": "webm",
    "WAV_ULAW": "wav",
    "OGG_VORBIS": "ogg",
    "OGG_OPUS": "opus",
    "MP3": "mp3",
}
UNKNOWN = "0f0e0d0c-0b0a-4908-8706-050403020100"
Json = dict[str, Any]


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    config = dataclasses.replace(BASE, cache_dir=str(tmp_path_factory.mktemp("media")))
    with serve(config) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def api(org: RunningEmulator) -> Iterator[httpx.Client]:
    with org.api() as client:
        yield client


@pytest.fixture(scope="module")
def truth(org: RunningEmulator) -> Json:
    return org.ground_truth()


@pytest.fixture(scope="module")
def single(truth: Json) -> Json:
    """A conversation with one recording."""
    return recorded_conversation(truth)


@pytest.fixture(scope="module")
def pair(truth: Json) -> Json:
    """A conversation with two recordings."""
    return recorded_conversation(truth, 2)


def _path(conversation_id: str, resource: str = "recordings", recording_id: str = "") -> str:
    path = f"/api/v2/conversations/{conversation_id}/{resource}"
    return f"{path}/{recording_id}" if recording_id else path


def _one(conversation: Json, resource: str = "recordings") -> str:
    """The path of the conversation's first recording."""
    recording_id = conversation["recordings"][0]["recording_id"]
    return _path(conversation["conversation_id"], resource, recording_id)


def _media_url(api: httpx.Client, conversation: Json, format_id: str) -> str:
    response = api.get(_one(conversation), params={"formatId": format_id})
    assert response.status_code == 200, response.text
    return str(response.json()["mediaUris"]["S"]["mediaUri"])


def _download(url: str, **headers: str) -> httpx.Response:
    with httpx.Client(timeout=30) as http:
        return http.get(url, headers=headers)


# -- recording metadata ------------------------------------------------------------------------


def test_recording_metadata_lists_every_recording_of_the_conversation(
    api: httpx.Client, pair: Json
):
    response = api.get(_path(pair["conversation_id"], "recordingmetadata"))

    assert response.status_code == 200
    assert [m["id"] for m in response.json()] == [r["recording_id"] for r in pair["recordings"]]
    for metadata in response.json():
        assert_valid(metadata, "RecordingMetadata")


def test_one_recording_metadata_validates_as_recording_metadata(api: httpx.Client, single: Json):
    body = api.get(_one(single, "recordingmetadata")).json()

    assert_valid(body, "RecordingMetadata")
    assert body["conversationId"] == single["conversation_id"]
    assert body["fileState"] == "AVAILABLE"
    assert body["media"] == "audio"
    assert body["mediaSubtype"] == single["recordings"][0]["media_subtype"]


# -- recordings in each format -----------------------------------------------------------------


@pytest.mark.parametrize("format_id", [*FORMATS, "NONE"])
def test_recordings_list_validates_as_recordings_in_every_format(
    api: httpx.Client, pair: Json, format_id: str
):
    response = api.get(_path(pair["conversation_id"]), params={"formatId": format_id})

    assert response.status_code == 200
    assert len(response.json()) == 2
    for body in response.json():
        assert_valid(body, "Recording")
        assert body["fileState"] == "AVAILABLE"


@pytest.mark.parametrize("format_id", [*FORMATS, "NONE"])
def test_one_recording_validates_as_a_recording_in_every_format(
    api: httpx.Client, single: Json, format_id: str
):
    response = api.get(_one(single), params={"formatId": format_id})

    assert response.status_code == 200
    assert_valid(response.json(), "Recording")
    assert response.json()["id"] == single["recordings"][0]["recording_id"]


@pytest.mark.parametrize("format_id", FORMATS)
def test_ready_recording_has_a_media_uri_in_the_asked_format(
    api: httpx.Client, single: Json, format_id: str
):
    url = httpx.URL(_media_url(api, single, format_id))

    assert url.params["format"] == format_id
    assert url.path.endswith(f".{EXTENSIONS[format_id]}")


def test_format_none_gives_no_media_uris(api: httpx.Client, single: Json):
    response = api.get(_one(single), params={"formatId": "NONE"})

    assert response.status_code == 200
    assert_valid(response.json(), "Recording")
    assert "mediaUris" not in response.json()


def test_format_defaults_to_webm(api: httpx.Client, single: Json):
    response = api.get(_path(single["conversation_id"]))

    url = httpx.URL(response.json()[0]["mediaUris"]["S"]["mediaUri"])
    assert url.params["format"] == "WEBM"


@pytest.mark.parametrize("format_id", ["FLAC", "wav", ""])
def test_invalid_format_id_is_400(api: httpx.Client, single: Json, format_id: str):
    response = api.get(_path(single["conversation_id"]), params={"formatId": format_id})

    assert response.status_code == 400
    assert_valid(response.json(), "ErrorBody")


@pytest.mark.parametrize("max_wait_ms", ["0", "-5", "soon", "60001"])
def test_invalid_max_wait_ms_is_400(api: httpx.Client, single: Json, max_wait_ms: str):
    response = api.get(_path(single["conversation_id"]), params={"maxWaitMs": max_wait_ms})

    assert response.status_code == 400
    assert_valid(response.json(), "ErrorBody")


@pytest.mark.parametrize("resource", ["recordingmetadata", "recordings"])
def test_unknown_conversation_is_404_error_body(api: httpx.Client, resource: str):
    response = api.get(_path(UNKNOWN, resource))

    assert response.status_code == 404
    assert response.json()["code"] == "not.found"
    assert_valid(response.json(), "ErrorBody")


@pytest.mark.parametrize("resource", ["recordingmetadata", "recordings"])
def test_unknown_recording_is_404_error_body(api: httpx.Client, single: Json, resource: str):
    response = api.get(_path(single["conversation_id"], resource, UNKNOWN))

    assert response.status_code == 404
    assert_valid(response.json(), "ErrorBody")


# -- transcoding and upload --------------------------------------------------------------------


@pytest.fixture
def transcoding(make_emulator: EmulatorFactory) -> Iterator[tuple[httpx.Client, Json]]:
    """An org needing ten minutes per audio minute to transcode, and one of its conversations."""
    emulator = make_emulator(transcode_ms=600_000)
    with emulator.api() as client:
        yield client, recorded_conversation(emulator.ground_truth())


def test_transcoding_recordings_are_202_without_media_uris(
    transcoding: tuple[httpx.Client, Json],
):
    api, conversation = transcoding

    response = api.get(
        _path(conversation["conversation_id"]), params={"formatId": "WAV", "maxWaitMs": 100}
    )

    assert response.status_code == 202
    for body in response.json():
        assert_valid(body, "Recording")
        assert "mediaUris" not in body
        assert body["estimatedTranscodeTimeMs"] > 0


def test_single_recording_is_202_while_transcoding(transcoding: tuple[httpx.Client, Json]):
    api, conversation = transcoding

    response = api.get(_one(conversation), params={"formatId": "MP3"})

    assert response.status_code == 202
    assert "mediaUris" not in response.json()


def test_transcoded_recording_is_200_with_media_uris_after_the_estimate(
    make_emulator: EmulatorFactory,
):
    emulator = make_emulator(transcode_ms=600_000)
    path = _path(recorded_conversation(emulator.ground_truth())["conversation_id"])
    params = {"formatId": "WAV", "maxWaitMs": 1}
    with emulator.api() as api:
        estimate_ms = api.get(path, params=params).json()[0]["estimatedTranscodeTimeMs"]

        emulator.advance(estimate_ms / 1000 + 1)

        response = api.get(path, params=params)
    assert response.status_code == 200
    assert "mediaUris" in response.json()[0]


def test_recording_is_uploading_right_after_its_call_ends(emulator: RunningEmulator):
    call = inject_call(emulator, ended_s_ago=1)

    with emulator.api() as api:
        response = api.get(_path(call["conversation_id"], "recordingmetadata"))

    assert [m["fileState"] for m in response.json()] == ["UPLOADING"]
    assert_valid(response.json()[0], "RecordingMetadata")


def test_uploading_recording_is_202_without_media_uris(emulator: RunningEmulator):
    call = inject_call(emulator, ended_s_ago=1)

    with emulator.api() as api:
        response = api.get(
            _path(call["conversation_id"]), params={"formatId": "WAV", "maxWaitMs": 1}
        )

    assert response.status_code == 202
    assert "mediaUris" not in response.json()[0]


def test_recording_is_available_with_media_uris_after_media_delay(emulator: RunningEmulator):
    call = inject_call(emulator, ended_s_ago=1)

    emulator.advance(emulator.config.media_delay_s)

    with emulator.api() as api:
        response = api.get(
            _path(call["conversation_id"]), params={"formatId": "WAV", "maxWaitMs": 1}
        )
    assert response.status_code == 200
    assert response.json()[0]["fileState"] == "AVAILABLE"
    assert "mediaUris" in response.json()[0]


# -- the media host ----------------------------------------------------------------------------


@pytest.mark.parametrize("format_id", FORMATS)
def test_media_downloads_without_authorization_as_the_ground_truth_bytes(
    org: RunningEmulator, api: httpx.Client, single: Json, format_id: str
):
    expected = conversation_truth(org, single, format_id)["recordings"][0]["formats"][format_id]

    response = _download(_media_url(api, single, format_id))

    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == expected["sha256"]
    assert response.headers["content-type"].startswith(expected["content_type"])


@pytest.mark.parametrize("format_id", FORMATS)
def test_media_decodes_to_two_channels_of_the_recording_duration(
    api: httpx.Client, single: Json, format_id: str
):
    data = _download(_media_url(api, single, format_id)).content

    with av.open(io.BytesIO(data)) as container:
        frames = list(container.decode(container.streams.audio[0]))
    assert {frame.layout.nb_channels for frame in frames} == {2}
    decoded_ms = sum(frame.samples for frame in frames) * 1000 / frames[0].sample_rate
    assert decoded_ms == pytest.approx(single["recordings"][0]["duration_ms"], abs=80)


def test_range_request_is_206_with_the_asked_slice(api: httpx.Client, single: Json):
    url = _media_url(api, single, "WAV")
    whole = _download(url).content

    response = _download(url, Range="bytes=100-1099")

    assert response.status_code == 206
    assert response.content == whole[100:1100]
    assert response.headers["content-range"] == f"bytes 100-1099/{len(whole)}"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("Signature", "0" * 64, id="signature"),
        pytest.param("format", "MP3", id="format"),
        pytest.param("Expires", "9999999999", id="expires"),
    ],
)
def test_tampered_media_url_is_403(api: httpx.Client, single: Json, name: str, value: str):
    url = httpx.URL(_media_url(api, single, "WAV"))

    response = _download(str(url.copy_set_param(name, value)))

    assert response.status_code == 403


def test_media_url_is_valid_until_url_ttl_s(make_emulator: EmulatorFactory):
    emulator = make_emulator(url_ttl_s=120)
    with emulator.api() as api:
        url = _media_url(api, recorded_conversation(emulator.ground_truth()), "WAV")

    # Well inside the 120 s: the emulator's clock also runs in real time meanwhile, and a
    # loaded machine once took over a second between the URL and its download.
    emulator.advance(90)

    assert _download(url).status_code == 200


def test_media_url_expires_after_url_ttl_s(make_emulator: EmulatorFactory):
    emulator = make_emulator(url_ttl_s=120)
    with emulator.api() as api:
        url = _media_url(api, recorded_conversation(emulator.ground_truth()), "WAV")

    emulator.advance(121)

    assert _download(url).status_code == 403


def test_media_request_with_bearer_is_served_and_counted(emulator: RunningEmulator):
    token = emulator.token()
    with emulator.api(token) as api:
        url = _media_url(api, recorded_conversation(emulator.ground_truth()), "WAV")

    response = _download(url, Authorization=f"Bearer {token}")

    assert response.status_code == 200
    assert emulator.stats()["media_requests_with_bearer"] == 1


def test_media_requests_without_bearer_are_not_counted(emulator: RunningEmulator):
    with emulator.api() as api:
        url = _media_url(api, recorded_conversation(emulator.ground_truth()), "WAV")

    _download(url)
    _download(url, Range="bytes=0-9")

    assert emulator.stats()["media_requests_with_bearer"] == 0
