"""Fuzzing the Genesys JSON models: any body Genesys (or something in its place) may send.

Random JSON and random bytes parsed as each response model the client reads end in a model or
a pydantic `ValidationError` (which the client turns into `GenesysUnavailableError`), never
another exception.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from callarchive.genesys import models

MODELS = [
    models.QueryPage,
    models.JobResultsPage,
    models.JobStatus,
    models.RecordingMetadata,
    models.Recording,
    models.BatchStatus,
    models.User,
    models.UserPage,
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["2026-11-25T03:00:00.000Z", "2026-13-45T99:00:00Z", "", "WAV", "AVAILABLE"])
)
KEYS = st.sampled_from(
    ["conversations", "totalHits", "cursor", "conversationId", "conversationStart",
     "conversationEnd", "participants", "sessions", "segments", "mediaType", "recording",
     "id", "mediaUris", "fileState", "state", "entities", "nextUri", "pageNumber", "results",
     "resultUrl", "errorMsg", "expectedResultCount", "name", "addresses", "durationMs"]
) | st.text(max_size=12)  # fmt: skip
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=30,
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse(model: type[BaseModel], body: bytes) -> None:
    with contextlib.suppress(ValidationError):
        model.model_validate_json(body)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@FUZZ
@given(document=JSON)
def test_random_json_is_a_model_or_a_validation_error(
    model: type[BaseModel], document: Any
) -> None:
    parse(model, json.dumps(document, allow_nan=True).encode())


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@FUZZ
@given(body=st.binary(max_size=200))
def test_random_bytes_are_a_validation_error(model: type[BaseModel], body: bytes) -> None:
    parse(model, body)


@FUZZ
@given(document=st.lists(JSON, max_size=4))
def test_random_recording_lists_are_models_or_a_validation_error(document: Any) -> None:
    with contextlib.suppress(ValidationError):
        TypeAdapter(list[models.Recording]).validate_json(json.dumps(document))
