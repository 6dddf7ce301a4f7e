"""The life of a conversation across runs: in progress, late media, the retry buffer, the
cursor and its maintenance procedure, deletion in Genesys, and the seed's alerts
(DESIGN.md sections 2 to 4; the seed, sections 4, 5, 7 and 8)."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from typing import Any

import pytest

from callarchive.alerts import AlertKind
from callarchive.imports.retry_buffer import Cdr, RetryReason, render
from genesys_emulator.config import ALL_PERMISSIONS
from tests.imports.conftest import TODAY, InstallationFactory
from tests.imports.harness import Installation
from tests.imports.observe import (
    PAIR_OPTIONS,
    add_client,
    alerts,
    archived,
    assert_metadata_matches,
    buffered,
    configure_after_traffic,
    cursor_file,
    inject,
    reports,
    retry_buffer,
    truth,
    waiting,
)

RETRY_BUFFERED = "CDR placed in retry buffer"
IMPORT_FAILED = "Conversation failed to import"
DELETE_FAILED = "Conversation failed to delete from Genesys Cloud"
BATCH_FAILED = "Failed to retrieve next batch"
TIMEZONE_FAILED = "Could not obtain timezone offsets"
EDIT_RETENTION = "recording:recording:editRetention"
SET_RETENTION = "PUT /api/v2/conversations/{conversationId}/recordings/{recordingId}"
CURSOR_LINE = re.compile(r"^[A-Za-z0-9._-]+;\d{4}\.\d{2}\.\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$")
# Traffic that ended yesterday at midnight: calls injected near "now" are alone in their window.
QUIET = {"start": TODAY - dt.timedelta(days=2)}
MAX_RECORDING_MIN = 10
DELAY_MIN = 2


def iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).isoformat()


def start_near_now(installation: Installation, **options: Any) -> dt.datetime:
    """Configure an import starting 15 minutes ago; the time it starts from."""
    start = installation.clock.now() - dt.timedelta(minutes=15)
    installation.configure(
        recording_start=iso(start),
        max_recording_length_min=MAX_RECORDING_MIN,
        availability_delay_min=DELAY_MIN,
        **options,
    )
    return start


def run(installation: Installation) -> str:
    result = installation.import_run()
    assert result.exit_code == 0, result.output
    return result.output


def messages(installation: Installation, title: str) -> list[str]:
    return [a.message for a in alerts(installation) if a.title == title]


def manual_cdr(conversation: dict[str, Any]) -> Cdr:
    return Cdr(
        conversation_id=conversation["conversation_id"],
        conversation_start=dt.datetime.fromisoformat(conversation["start"]),
        policy_id=1,
        import_source_id=1,
        reason=RetryReason.MANUAL,
        message="added by hand",
    )


# -- in progress and late media ----------------------------------------------------------------


def test_a_call_in_progress_waits_in_the_retry_buffer_until_it_ends(
    make_installation: InstallationFactory,
) -> None:
    installation = make_installation(**QUIET)
    start = start_near_now(installation)
    # It started 14 minutes ago, behind the horizon (10 + 2 minutes), and lasts an hour.
    call = inject(installation, start + dt.timedelta(minutes=1), 3600)
    run(installation)
    conversation_id = call["conversation_id"]
    started = dt.datetime.fromisoformat(call["start"])
    assert buffered(installation) == [f"{started:%Y%m%dT%H%M%S}_{conversation_id}.xml"]
    assert any(conversation_id in m for m in messages(installation, RETRY_BUFFERED))
    listed = installation.must("retry-buffer", "list", *PAIR_OPTIONS).output
    assert f"{conversation_id}  start" in listed
    assert "in_progress" in listed
    assert archived(installation) == {}

    installation.clock.advance(3600 + 60)  # the call ended and its media was uploaded
    run(installation)
    assert buffered(installation) == []
    got = archived(installation)
    assert set(got) == {conversation_id}
    assert_metadata_matches(got[conversation_id], truth(installation)[conversation_id])


def test_media_late_past_the_availability_delay_fails_then_imports_once_it_arrives(
    make_installation: InstallationFactory,
) -> None:
    installation = make_installation(media_delay_s=3600, **QUIET)
    start = start_near_now(installation)
    call = inject(installation, start + dt.timedelta(minutes=1), 5)
    conversation_id = call["conversation_id"]
    run(installation)
    assert any(conversation_id in m for m in messages(installation, RETRY_BUFFERED))
    assert messages(installation, IMPORT_FAILED) == []
    assert "media_not_ready" in installation.must("retry-buffer", "list", *PAIR_OPTIONS).output

    installation.clock.advance(DELAY_MIN * 60 + 1)
    run(installation)
    assert any(conversation_id in m for m in messages(installation, IMPORT_FAILED))
    assert waiting(installation) == [conversation_id]
    assert archived(installation) == {}

    installation.clock.advance(3600)
    run(installation)
    assert buffered(installation) == []
    assert set(archived(installation)) == {conversation_id}


# -- the retry buffer --------------------------------------------------------------------------


def test_operators_add_list_and_remove_retry_buffer_cdrs_through_the_cli(
    installation: Installation,
) -> None:
    configure_after_traffic(installation)
    kept, removed = list(truth(installation).values())[:2]
    for conversation in (kept, removed):
        installation.must(
            "retry-buffer", "add", *PAIR_OPTIONS, conversation["conversation_id"],
            "--start", conversation["start"],
        )  # fmt: skip
    listed = installation.must("retry-buffer", "list", *PAIR_OPTIONS).output
    assert kept["conversation_id"] in listed
    assert removed["conversation_id"] in listed
    assert listed.count("manual") == 2
    gone = installation.must("retry-buffer", "remove", *PAIR_OPTIONS, removed["conversation_id"])
    assert "removed 1 file(s)" in gone.output
    again = installation.cli("retry-buffer", "remove", *PAIR_OPTIONS, removed["conversation_id"])
    assert again.exit_code == 1

    run(installation)
    got = archived(installation)
    assert set(got) == {kept["conversation_id"]}
    assert_metadata_matches(got[kept["conversation_id"]], kept)
    listed = installation.must("retry-buffer", "list", *PAIR_OPTIONS).output
    assert "(the retry buffer is empty)" in listed


def test_a_run_takes_at_most_25_cdrs_from_the_retry_buffer_oldest_first(
    installation: Installation,
) -> None:
    configure_after_traffic(installation)
    conversations = sorted(truth(installation).values(), key=lambda c: c["start"])[:30]
    assert len(conversations) == 30
    folder = retry_buffer(installation)
    folder.mkdir(parents=True)
    for conversation in conversations:
        cdr = manual_cdr(conversation)
        (folder / f"{cdr.conversation_start:%Y%m%dT%H%M%S}_{cdr.conversation_id}.xml").write_bytes(
            render(cdr)
        )
    run(installation)
    first = set(archived(installation))
    assert first == {c["conversation_id"] for c in conversations[:25]}
    assert len(buffered(installation)) == 5

    run(installation)
    assert set(archived(installation)) == {c["conversation_id"] for c in conversations}
    assert buffered(installation) == []
    assert [r.imported for r in reports(installation)] == [25, 5]


def test_an_unreadable_retry_buffer_file_is_set_aside_with_an_alert_and_nothing_is_lost(
    installation: Installation,
) -> None:
    configure_after_traffic(installation)
    conversation = next(iter(truth(installation).values()))
    folder = retry_buffer(installation)
    folder.mkdir(parents=True)
    broken = b"<cdr version='1'><conversation_id>half a file"
    (folder / "00000000T000000_broken.xml").write_bytes(broken)
    cdr = manual_cdr(conversation)
    (folder / "20990101T000000_by-hand.xml").write_bytes(render(cdr))
    run(installation)
    assert set(archived(installation)) == {conversation["conversation_id"]}
    assert buffered(installation) == []
    rejected = folder / "rejected"
    assert (rejected / "00000000T000000_broken.xml").read_bytes() == broken
    assert "not well-formed" in (rejected / "00000000T000000_broken.xml.reason.txt").read_text()
    assert any("00000000T000000_broken.xml" in m for m in messages(installation, IMPORT_FAILED))


def test_a_cdr_added_with_the_start_time_as_exported_to_the_second_is_imported(
    installation: Installation,
) -> None:
    configure_after_traffic(installation)
    conversation = next(
        c
        for c in truth(installation).values()
        if dt.datetime.fromisoformat(c["start"]).microsecond >= 1000  # not on the second
    )
    export = conversation["export"]
    shown = f"{export['start_date']}T{export['start_time']}Z"  # what `conversations export` shows
    installation.must(
        "retry-buffer", "add", *PAIR_OPTIONS, conversation["conversation_id"], "--start", shown
    )
    run(installation)
    assert set(archived(installation)) == {conversation["conversation_id"]}
    assert buffered(installation) == []


def test_a_cdr_genesys_does_not_return_raises_an_alert_and_stays_in_the_buffer(
    installation: Installation,
) -> None:
    configure_after_traffic(installation)
    conversation = next(iter(truth(installation).values()))
    wrong_start = dt.datetime.fromisoformat(conversation["start"]) + dt.timedelta(hours=3)
    installation.must(
        "retry-buffer", "add", *PAIR_OPTIONS, conversation["conversation_id"],
        "--start", iso(wrong_start),
    )  # fmt: skip
    run(installation)
    assert archived(installation) == {}
    assert waiting(installation) == [conversation["conversation_id"]]
    assert any(conversation["conversation_id"] in m for m in messages(installation, IMPORT_FAILED))
    [report] = reports(installation)
    assert report.failed == 1
    listed = installation.must("retry-buffer", "list", *PAIR_OPTIONS).output
    assert "attempts 1" in listed


def test_a_cdr_of_a_conversation_in_the_window_is_imported_and_reported_once(
    installation: Installation,
) -> None:
    installation.configure(batch_duration_min=24 * 60)
    want = truth(installation)
    twice = list(want.values())[:5]
    for conversation in twice:
        installation.must(
            "retry-buffer", "add", *PAIR_OPTIONS, conversation["conversation_id"],
            "--start", conversation["start"],
        )  # fmt: skip
    run(installation)
    assert set(archived(installation)) == set(want)
    assert buffered(installation) == []
    [report] = reports(installation)
    reported = [e.genesys_conversation_id for e in report.entries]
    assert sorted(reported) == sorted(want)
    assert report.imported == len(want)
    assert report.already_imported == 0


# -- the cursor --------------------------------------------------------------------------------


def test_setting_the_cursor_back_reimports_nothing_twice(installation: Installation) -> None:
    installation.configure(
        max_recording_length_min=MAX_RECORDING_MIN, availability_delay_min=DELAY_MIN
    )
    installation.catch_up()
    before = archived(installation)
    line = installation.cursor_line()
    assert CURSOR_LINE.match(line), line
    discovered = installation.emulator.ground_truth()["conversations"]
    last = max((c for c in discovered if c["voice"] and c["recorded"]), key=lambda c: c["start"])
    assert line.split(";")[0] == last["conversation_id"]
    position = dt.datetime.strptime(line.split(";")[1], "%Y.%m.%d %H:%M:%S.%f").replace(
        tzinfo=dt.UTC
    )
    horizon = installation.clock.now() - dt.timedelta(minutes=MAX_RECORDING_MIN + DELAY_MIN)
    assert horizon - dt.timedelta(minutes=1) < position <= horizon
    done = len(reports(installation))

    start = f"{installation.emulator.config.start:%Y.%m.%d} 00:00:00.000"
    installation.must("cursor", "set", *PAIR_OPTIONS, start)
    assert installation.cursor_line() == f"{last['conversation_id']};{start}"
    installation.catch_up()
    after = archived(installation)
    assert after == before
    again = reports(installation)[done:]
    assert sum(r.imported for r in again) == 0
    assert sum(r.already_imported for r in again) == len(before)
    entries = [e for r in again for e in r.entries]
    assert all(e.already_imported and not e.newly_imported for e in entries)
    assert CURSOR_LINE.match(installation.cursor_line())


def test_a_malformed_cursor_stops_the_run_until_it_is_fixed(installation: Installation) -> None:
    installation.configure()
    run(installation)
    imported = archived(installation)
    later = max(truth(installation).values(), key=lambda c: c["start"])
    installation.must(
        "retry-buffer", "add", *PAIR_OPTIONS, later["conversation_id"], "--start", later["start"]
    )
    garbage = b"this is not a cursor\n"
    cursor_file(installation).write_bytes(garbage)
    result = installation.import_run()
    assert result.exit_code == 1
    assert "1_1.cursor line 'this is not a cursor'" in result.output
    assert "YYYY.MM.DD HH:MM:SS.mmm" in result.output
    assert messages(installation, BATCH_FAILED)
    assert cursor_file(installation).read_bytes() == garbage
    assert archived(installation) == imported
    assert waiting(installation) == [later["conversation_id"]]

    start = f"{installation.emulator.config.start:%Y.%m.%d} 00:00:00.000"
    installation.must("cursor", "set", *PAIR_OPTIONS, start)
    installation.catch_up()
    assert set(archived(installation)) == set(truth(installation))
    assert buffered(installation) == []


def test_a_quiet_window_reports_no_conversations_imported(installation: Installation) -> None:
    configure_after_traffic(installation)
    output = run(installation)
    assert "No conversations imported" in output
    [notification] = [a for a in alerts(installation) if a.kind == AlertKind.BATCH_NOTIFICATION]
    assert notification.message == "No conversations imported"
    assert notification.severity == "Notification"


# -- deleting the cloud copy -------------------------------------------------------------------


def recordings_in_genesys(installation: Installation) -> dict[str, str]:
    """File state of every recording of the recorded conversations, by recording id."""
    return {
        r["recording_id"]: r["file_state"]
        for c in truth(installation, formats="WAV").values()
        for r in c["recordings"]
    }


def test_on_completion_delete_removes_every_recording_from_genesys_once_archived(
    installation: Installation,
) -> None:
    installation.configure(delete_on_completion=True)
    installation.catch_up()
    want = truth(installation, formats="WAV")
    got = archived(installation)
    assert set(got) == set(want)
    for conversation_id, conversation in want.items():
        stored = {r["recording_id"]: r["sha256"] for r in got[conversation_id]["recordings"]}
        for recording in conversation["recordings"]:
            assert recording["file_state"] == "DELETED"
            assert stored[recording["recording_id"]] == recording["formats"]["WAV"]["sha256"]
    assert messages(installation, DELETE_FAILED) == []
    recordings = sum(len(c["recordings"]) for c in want.values())
    assert installation.emulator.stats()["by_endpoint"][SET_RETENTION] == recordings


def test_a_refused_deletion_is_alerted_kept_in_the_buffer_and_retried_once_allowed(
    installation: Installation,
) -> None:
    add_client(installation, "no-retention", ALL_PERMISSIONS - {EDIT_RETENTION})
    installation.configure(
        delete_on_completion=True, client_id="no-retention", client_secret="no-retention-secret"
    )
    installation.catch_up()
    assert set(archived(installation)) == set(truth(installation))
    assert messages(installation, DELETE_FAILED)
    assert set(recordings_in_genesys(installation).values()) == {"AVAILABLE"}
    listed = installation.must("retry-buffer", "list", *PAIR_OPTIONS).output.splitlines()
    assert len(listed) == len(archived(installation))
    assert all("delete_pending" in line for line in listed)

    add_client(installation, "no-retention", set(ALL_PERMISSIONS))
    installation.emulator.control("POST", "faults", json={"revoke_tokens": True})
    for _ in range(len(listed) // 25 + 1):
        run(installation)
    assert buffered(installation) == []
    assert set(recordings_in_genesys(installation).values()) == {"DELETED"}


# -- the seed's alerts -------------------------------------------------------------------------


def test_an_unresolvable_recording_timezone_stops_the_run_with_its_alert(
    installation: Installation,
) -> None:
    installation.configure()
    with sqlite3.connect(installation.home / "callarchive.db") as database:
        database.execute("UPDATE import_sources SET recording_timezone = 'Mars/Olympus_Mons'")
    result = installation.import_run()
    assert result.exit_code == 2
    assert "'Mars/Olympus_Mons' is not a known time zone" in result.output
    [message] = messages(installation, TIMEZONE_FAILED)
    assert "Mars/Olympus_Mons" in message
    assert archived(installation) == {}
    assert not cursor_file(installation).exists()


@pytest.mark.parametrize(
    "title", [BATCH_FAILED, IMPORT_FAILED, TIMEZONE_FAILED, RETRY_BUFFERED, DELETE_FAILED]
)
def test_the_seed_alert_titles_are_spelled_exactly(title: str) -> None:
    assert title in {kind.heading for kind in AlertKind}
