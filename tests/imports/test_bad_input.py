"""Bad input from operators and from Genesys: hand-edited cursors, hostile retry buffer files,
and an API that answers garbage, 5xx and 429. Runs stop or carry on; nothing is lost or doubled."""

from __future__ import annotations

import pytest

from tests.imports.cdr_files import BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY
from tests.imports.harness import Installation
from tests.imports.observe import (
    PAIR_OPTIONS,
    alerts,
    archived,
    assert_metadata_matches,
    buffered,
    configure_after_traffic,
    cursor_file,
    reports,
    retry_buffer,
    truth,
)

BATCH_FAILED = "Failed to retrieve next batch"
IMPORT_FAILED = "Conversation failed to import"
MAX_ROUNDS = 10
DETAILS_QUERY = "POST /api/v2/analytics/conversations/details/query"


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (b"c-1;2999.01.01 00:00:00.000\n", "lies in the future"),
        (b"", "is empty"),
        (b"c-1,2023.02.02 07:00:00.000\n", "is not <conversation id>;YYYY.MM.DD HH:MM:SS.mmm"),
        (b"c-1;2023.02.02T07:00:00.000\n", "is not <conversation id>;YYYY.MM.DD HH:MM:SS.mmm"),
        (b"c-1;2023.02.30 07:00:00.000\n", "is not a valid date and time"),
        (b"c-1;2023.02.02 07:00:00.000\n" * 2, "has 2 lines; expected one"),
        (b"c-1;" + b"9" * 1_000_000, "bytes; it must be one short line"),
        (b"\xff\xfe\x00garbage", "is not UTF-8 text"),
    ],
    ids=["future", "empty", "comma", "iso-t", "no-such-day", "two-lines", "huge", "binary"],
)
def test_a_bad_cursor_stops_the_run_with_a_reason_and_advances_nothing(
    installation: Installation, content: bytes, complaint: str
) -> None:
    installation.configure()
    cursor = cursor_file(installation)
    cursor.parent.mkdir(parents=True)
    cursor.write_bytes(content)
    result = installation.import_run()
    assert result.exit_code == 1
    assert complaint in result.output
    [alert] = [a for a in alerts(installation) if a.title == BATCH_FAILED]
    assert complaint in alert.message
    assert cursor.read_bytes() == content
    assert archived(installation) == {}
    assert buffered(installation) == []


def test_setting_the_cursor_in_the_future_is_refused(installation: Installation) -> None:
    installation.configure()
    result = installation.cli("cursor", "set", *PAIR_OPTIONS, "2999.01.01 00:00:00.000")
    assert result.exit_code == 2
    assert "lies in the future" in result.output
    assert not cursor_file(installation).exists()


@pytest.mark.parametrize(
    "hostile",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY],
    ids=["billion-laughs", "external-entity", "parameter-entity"],
)
def test_hostile_retry_xml_is_rejected_with_an_alert_and_other_cdrs_still_import(
    installation: Installation, hostile: bytes
) -> None:
    configure_after_traffic(installation)
    conversation = next(iter(truth(installation).values()))
    installation.must(
        "retry-buffer", "add", *PAIR_OPTIONS, conversation["conversation_id"],
        "--start", conversation["start"],
    )  # fmt: skip
    folder = retry_buffer(installation)
    (folder / "00000000T000000_hostile.xml").write_bytes(hostile)
    result = installation.import_run()
    assert result.exit_code == 0, result.output
    got = archived(installation)
    assert set(got) == {conversation["conversation_id"]}
    assert_metadata_matches(got[conversation["conversation_id"]], conversation)
    assert buffered(installation) == []
    assert (folder / "rejected" / "00000000T000000_hostile.xml").read_bytes() == hostile
    [alert] = [a for a in alerts(installation) if a.title == IMPORT_FAILED]
    assert "00000000T000000_hostile.xml" in alert.message
    assert "root:" not in alert.message  # the external entity was never resolved


def fault_evidence(installation: Installation) -> dict[str, int]:
    """Requests answered 429 or 5xx, and details queries beyond one a window (the client asks
    again for a body that is not JSON)."""
    stats = installation.emulator.stats()
    windows = sum(1 for r in reports(installation) if r.window_start is not None)
    queries = stats["by_endpoint"].get(DETAILS_QUERY, 0)
    return {
        "429": stats["rate_limited"],
        "5xx": sum(r["count"] for r in stats["requests"] if r["status"] >= 500),
        "malformed-json": queries - windows,
    }


@pytest.mark.parametrize(
    ("profile", "evidence"),
    [("malformed-json:0.3", "malformed-json"), ("server-errors:0.2", "5xx"),
     ("rate-limit-burst:0.05", "429")],
    ids=["malformed-json", "5xx", "429"],
)  # fmt: skip
def test_an_api_answering_garbage_5xx_and_429_still_ends_with_the_ground_truth(
    installation: Installation, profile: str, evidence: str
) -> None:
    installation.configure()
    installation.emulator.control("POST", "faults", json={"profile": profile})
    want = truth(installation, formats="WAV")
    rounds = []
    for _ in range(MAX_ROUNDS):
        result = installation.import_run("--until-caught-up")
        assert result.exit_code in (0, 1), result.output
        rounds.append(result.exit_code)
        if (
            result.exit_code == 0
            and not buffered(installation)
            and set(archived(installation)) == set(want)
        ):
            break
    else:
        pytest.fail(f"no convergence after {MAX_ROUNDS} rounds (exit codes {rounds})")
    assert fault_evidence(installation)[evidence] > 0, "the fault profile never fired"
    got = archived(installation)
    for conversation_id, conversation in want.items():
        assert_metadata_matches(got[conversation_id], conversation)
        sha = {r["recording_id"]: r["formats"]["WAV"]["sha256"] for r in conversation["recordings"]}
        assert {r["recording_id"]: r["sha256"] for r in got[conversation_id]["recordings"]} == sha
