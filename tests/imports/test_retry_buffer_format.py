"""Retry buffer files: our CDR XML, lossless round trips, strict and safe parsing."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callarchive.errors import CallarchiveError
from callarchive.imports.retry_buffer import (
    MAX_CDR_BYTES,
    Cdr,
    CdrError,
    RetryReason,
    parse,
    render,
)
from tests.imports.cdr_files import (
    BILLION_LAUGHS,
    EXTERNAL_DTD,
    EXTERNAL_ENTITY,
    MINIMAL,
    PARAMETER_ENTITY,
    PLAIN_DOCTYPE,
    QUADRATIC_BLOWUP,
)

START = dt.datetime(2023, 2, 2, 7, tzinfo=dt.UTC)
FULL = Cdr(
    conversation_id="19d0243a-9fd0-11d1-ac11-13453884b96c",
    conversation_start=START,
    policy_id=3,
    import_source_id=12,
    reason=RetryReason.DELETE_PENDING,
    message='deleteDate refused: 403 "missing permission" <recording:recording:delete>',
    attempts=2,
    first_failed_at=dt.datetime(2023, 2, 2, 7, 30, tzinfo=dt.UTC),
    last_failed_at=dt.datetime(2023, 2, 2, 8, 0, 0, 250000, tzinfo=dt.UTC),
    recording_ids=("r-1", "r-2"),
    metadata={"from": "+44 20 7946 0000", "from_info": "Zoë & Søren", "end_cause": None},
)


def test_render_writes_every_field_as_our_xml() -> None:
    assert render(FULL).decode("utf-8") == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<cdr version="1">\n'
        "  <conversation_id>19d0243a-9fd0-11d1-ac11-13453884b96c</conversation_id>\n"
        "  <conversation_start>2023-02-02T07:00:00Z</conversation_start>\n"
        "  <policy_id>3</policy_id>\n"
        "  <import_source_id>12</import_source_id>\n"
        "  <reason>delete_pending</reason>\n"
        "  <message>deleteDate refused: 403 &quot;missing permission&quot; "
        "&lt;recording:recording:delete&gt;</message>\n"
        "  <attempts>2</attempts>\n"
        "  <first_failed_at>2023-02-02T07:30:00Z</first_failed_at>\n"
        "  <last_failed_at>2023-02-02T08:00:00.250000Z</last_failed_at>\n"
        "  <recording_ids>\n"
        "    <recording_id>r-1</recording_id>\n"
        "    <recording_id>r-2</recording_id>\n"
        "  </recording_ids>\n"
        "  <metadata>\n"
        '    <field name="from">+44 20 7946 0000</field>\n'
        '    <field name="from_info">Zoë &amp; Søren</field>\n'
        '    <field name="end_cause" nil="true"/>\n'
        "  </metadata>\n"
        "</cdr>\n"
    )


def test_render_then_parse_gives_the_same_cdr() -> None:
    assert parse(render(FULL)) == FULL


ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=60)  # incl. surrogates
IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,60}", fullmatch=True)
TIMES = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=dt.datetime(2100, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    timezones=st.sampled_from(
        [
            dt.UTC,
            dt.timezone(dt.timedelta(hours=5, minutes=30)),
            dt.timezone(-dt.timedelta(hours=8)),
        ]
    ),
)


@given(
    conversation_id=IDS,
    start=TIMES,
    ids=st.tuples(st.integers(0, 2**40), st.integers(0, 2**40), st.integers(0, 10**6)),
    reason=st.sampled_from(RetryReason),
    message=ANY_TEXT,
    failed=st.tuples(st.none() | TIMES, st.none() | TIMES),
    recording_ids=st.lists(IDS, max_size=4).map(tuple),
    metadata=st.dictionaries(
        st.from_regex(r"[a-z_][a-z0-9_]{0,30}", fullmatch=True),
        st.none() | ANY_TEXT | st.sampled_from(["", " ", "\r\n", "]]>", "&amp;", "<x/>", '"']),
        max_size=8,
    ),
)
def test_round_trip_keeps_every_value(
    conversation_id: str,
    start: dt.datetime,
    ids: tuple[int, int, int],
    reason: RetryReason,
    message: str,
    failed: tuple[dt.datetime | None, dt.datetime | None],
    recording_ids: tuple[str, ...],
    metadata: dict[str, str | None],
) -> None:
    cdr = Cdr(
        conversation_id=conversation_id,
        conversation_start=start,
        policy_id=ids[0],
        import_source_id=ids[1],
        reason=reason,
        message=message,
        attempts=ids[2],
        first_failed_at=failed[0],
        last_failed_at=failed[1],
        recording_ids=recording_ids,
        metadata=metadata,
    )
    again = parse(render(cdr))
    assert again == cdr
    assert dict(again.metadata) == metadata
    assert list(again.metadata) == list(metadata)  # the order of the fields is kept
    assert again.conversation_start.tzinfo is dt.UTC


@pytest.mark.parametrize(
    "value",
    ["nul \x00 byte", "bell \x07", "form feed \x0c", "lone surrogate \ud800", "\ufffe", "a\rb"],
)
def test_characters_xml_cannot_carry_survive_the_round_trip(value: str) -> None:
    cdr = dataclasses.replace(FULL, message=value, metadata={"to_info": value})
    assert parse(render(cdr)) == cdr


def test_a_minimal_hand_written_file_takes_the_defaults() -> None:
    cdr = parse(MINIMAL.encode())
    assert cdr == Cdr(
        conversation_id="c-1",
        conversation_start=START,
        policy_id=3,
        import_source_id=12,
        reason=RetryReason.MANUAL,
    )
    assert (cdr.message, cdr.attempts, cdr.recording_ids, dict(cdr.metadata)) == ("", 0, (), {})


def test_hand_edits_are_forgiven_where_harmless() -> None:
    edited = (
        "\ufeff<?xml version='1.0' encoding='UTF-8'?>\r\n"
        "<!-- added by jdoe for ticket 4711 -->\r\n"
        '<cdr version="1">\r\n'
        "  <conversation_id>\r\n    c-1\r\n  </conversation_id>\r\n"
        "  <conversation_start> 2023-02-02T09:00:00+02:00 </conversation_start>\r\n"
        "  <policy_id>3</policy_id><import_source_id>12</import_source_id>\r\n"
        "  <reason>manual</reason>\r\n  <attempts> </attempts>\r\n"
        "  <first_failed_at/>\r\n  <last_failed_at nil='true'/>\r\n"
        "</cdr>\r\n"
    )
    cdr = parse(edited.encode("utf-8"))
    assert (cdr.conversation_id, cdr.conversation_start, cdr.attempts) == ("c-1", START, 0)
    assert cdr.first_failed_at is None
    assert cdr.last_failed_at is None


def test_other_declared_encodings_are_read() -> None:
    latin = MINIMAL.replace("<reason>", "<message>café</message><reason>")
    data = b'<?xml version="1.0" encoding="ISO-8859-1"?>\n' + latin.encode("latin-1")
    assert parse(data).message == "café"


def test_nil_and_empty_values_differ() -> None:
    cdr = dataclasses.replace(FULL, metadata={"from_info": "", "to_info": None})
    assert dict(parse(render(cdr)).metadata) == {"from_info": "", "to_info": None}


# --- rejections -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        BILLION_LAUGHS,
        QUADRATIC_BLOWUP,
        EXTERNAL_ENTITY,
        EXTERNAL_DTD,
        PARAMETER_ENTITY,
        PLAIN_DOCTYPE,
    ],
    ids=["billion-laughs", "quadratic-blowup", "external-entity", "external-dtd", "param", "dtd"],
)
def test_hostile_xml_is_refused_before_any_expansion(data: bytes) -> None:
    assert len(data) <= MAX_CDR_BYTES
    with pytest.raises(CdrError, match=r"^a\.xml: has a DTD \(<!DOCTYPE \.\.\.>\), which") as error:
        parse(data, source="a.xml")
    assert "root:" not in str(error.value)  # nothing of /etc/passwd was read


def test_a_file_over_64_kib_is_refused_before_parsing() -> None:
    huge = BILLION_LAUGHS + b"<!--" + b" " * MAX_CDR_BYTES + b"-->"
    with pytest.raises(CdrError, match=r"a\.xml: \d+ bytes is too big .*\(at most 65536\)"):
        parse(huge, source="a.xml")


def test_a_file_of_exactly_64_kib_is_read() -> None:
    data = MINIMAL.encode()
    padded = data + b" " * (MAX_CDR_BYTES - len(data))
    assert len(padded) == MAX_CDR_BYTES
    assert parse(padded).conversation_id == "c-1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is not well-formed XML"),
        (b"conversation c-1 failed", "is not well-formed XML"),
        (b"\x00\x01\x02binary", "is not well-formed XML"),
        (b'<cdr version="1"><conversation_id>c-1', "is not well-formed XML"),
        (MINIMAL.replace("c-1", "&nbsp;").encode(), "undefined entity"),
        (b"<cdr>\xff</cdr>", "is not well-formed XML"),
        (b'<?xml version="1.0" encoding="x-klingon"?><cdr/>', "unknown encoding"),
    ],
)
def test_what_is_not_xml_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(CdrError, match=rf"^retryBuffer/3_12/a\.xml: .*{message}"):
        parse(data, source="retryBuffer/3_12/a.xml")


def _without(line: str) -> str:
    return "\n".join(part for part in MINIMAL.splitlines() if line not in part)


def _with(element: str) -> str:
    return MINIMAL.replace("</cdr>", f"  {element}\n</cdr>")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL.replace("<cdr ", "<conversation ").replace("</cdr>", "</conversation>"),
         "the root element is <conversation>; expected <cdr"),
        (MINIMAL.replace("<cdr ", '<cdr xmlns="urn:x" '), "the root element is <{urn:x}cdr>"),
        (MINIMAL.replace(' version="1"', ""), "<cdr> has version None; expected \"1\""),
        (MINIMAL.replace('version="1"', 'version="2"'), "<cdr> has version '2'"),
        (_without("conversation_id"), "<conversation_id> is missing or empty"),
        (MINIMAL.replace(">c-1<", "><"), "<conversation_id> is missing or empty"),
        (MINIMAL.replace(">c-1<", ' nil="true"><'), "<conversation_id> is missing or empty"),
        (MINIMAL.replace("c-1", "../../etc/x"), "conversation_id '../../etc/x' is not a Genesys"),
        (MINIMAL.replace("c-1", "c 1"), "conversation_id 'c 1' is not a Genesys id"),
        (_without("conversation_start"), "<conversation_start> is missing or empty"),
        (MINIMAL.replace("2023-02-02T07", "2023-13-45T07"), "'2023-13-45T07:00:00Z' is not an ISO"),
        (MINIMAL.replace("07:00:00Z", "07:00:00"), "'2023-02-02T07:00:00' has no time zone"),
        (MINIMAL.replace("2023-02-02T07:00:00Z", "yesterday"), "'yesterday' is not an ISO 8601"),
        (_with("<first_failed_at>soon</first_failed_at>"), "<first_failed_at> 'soon' is not an"),
        (_with("<last_failed_at>2023-02-02</last_failed_at>"), "has no time zone"),
        (_without("policy_id"), "<policy_id> is missing or empty"),
        (MINIMAL.replace(">3<", ">three<"), "<policy_id> 'three' is not a whole number"),
        (MINIMAL.replace(">12<", ">-12<"), "import_source_id must be 0 or more, not -12"),
        (_with("<attempts>-1</attempts>"), "attempts must be 0 or more, not -1"),
        (_with("<attempts>many</attempts>"), "<attempts> 'many' is not a whole number"),
        (_with("<attempts>1e3</attempts>"), "<attempts> '1e3' is not a whole number"),
        (_with(f"<attempts>{'9' * 40}</attempts>"), "is not a whole number"),
        (_with("<attempts>٣</attempts>"), "is not a whole number"),
        (_without("reason"), "<reason> is missing or empty"),
        (MINIMAL.replace(">manual<", ">lost<"), "<reason> 'lost' is not one of media_not_ready, "),
        (MINIMAL.replace(">manual<", ">MANUAL<"), "<reason> 'MANUAL' is not one of"),
        (_with("<conversationId>c-2</conversationId>"), "<conversationId> is not a CDR element"),
        (_with("<conversation_id>c-2</conversation_id>"), "<conversation_id> appears twice"),
        (_with("<metadata/><metadata/>"), "<metadata> appears twice"),
        (_with('<metadata><field name="to">1</field><field name="to">2</field></metadata>'),
         "metadata field 'to' appears twice"),
        (_with("<metadata><field>1</field></metadata>"), "<metadata> holds <field>; expected"),
        (_with('<metadata><to name="to">1</to></metadata>'), "<metadata> holds <to>"),
        (_with('<metadata><field name="a b">1</field></metadata>'), "'a b' is not a key"),
        (_with("<recording_ids><id>r-1</id></recording_ids>"), "expected <recording_id>"),
        (_with("<recording_ids><recording_id/></recording_ids>"), "<recording_id> is missing"),
        (_with("<recording_ids><recording_id>r/1</recording_id></recording_ids>"),
         "recording_id 'r/1' is not a Genesys id"),
        (_with('<message encoding="base64">%%%</message>'), "<message> is not base64"),
        (_with('<message encoding="base64">//79</message>'), "<message> is not base64 of UTF-8"),
        (_with('<message encoding="rot13">nop</message>'), "has encoding 'rot13'"),
        (_with('<message nil="true">x</message>'), 'has nil="true" and a value'),
        (_with("<message>a <b>bold</b> move</message>"), "<message> holds elements"),
    ],
)  # fmt: skip
def test_a_wrong_schema_is_refused_with_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(CdrError) as error:
        parse(text.encode("utf-8"), source="x.xml")
    assert str(error.value).startswith("x.xml: ")
    assert message in str(error.value)


def test_cdr_errors_stop_the_cli_with_exit_code_2() -> None:
    assert issubclass(CdrError, CallarchiveError)
    assert CdrError.exit_code == 2


# --- the value --------------------------------------------------------------------------------


def test_failed_again_counts_the_attempt_and_keeps_the_first_failure() -> None:
    first = dt.datetime(2023, 2, 2, 8, tzinfo=dt.UTC)
    second = first + dt.timedelta(minutes=5)
    new = Cdr(
        conversation_id="c-1",
        conversation_start=START,
        policy_id=3,
        import_source_id=12,
        reason=RetryReason.IN_PROGRESS,
    )
    once = new.failed_again(reason=RetryReason.MEDIA_NOT_READY, message="202", at=first)
    twice = once.failed_again(reason=RetryReason.FAILED, message="500", at=second)
    assert (once.attempts, once.first_failed_at, once.last_failed_at) == (1, first, first)
    assert (twice.attempts, twice.first_failed_at, twice.last_failed_at) == (2, first, second)
    assert (twice.reason, twice.message) == (RetryReason.FAILED, "500")
    assert new.attempts == 0


def test_datetimes_must_be_aware_and_are_kept_in_utc() -> None:
    with pytest.raises(ValueError, match="conversation_start must be timezone-aware"):
        dataclasses.replace(FULL, conversation_start=dt.datetime(2023, 2, 2))  # noqa: DTZ001 - the naive case under test
    local = START.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert dataclasses.replace(FULL, conversation_start=local).conversation_start.tzinfo is dt.UTC


def test_a_cdr_is_frozen_and_its_metadata_cannot_change() -> None:
    metadata: dict[str, str | None] = {"from": "1"}
    cdr = dataclasses.replace(FULL, metadata=metadata)
    metadata["from"] = "2"
    assert cdr.metadata["from"] == "1"
    with pytest.raises(TypeError):
        cdr.metadata["from"] = "3"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cdr.attempts = 9  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"conversation_id": ""}, "conversation_id '' is not a Genesys id"),
        ({"attempts": -1}, "attempts must be 0 or more"),
        ({"policy_id": -3}, "policy_id must be 0 or more"),
        ({"recording_ids": ("ok", "not ok")}, "recording_id 'not ok'"),
        ({"metadata": {"": "x"}}, "metadata field name '' is not a key"),
    ],
)
def test_invalid_values_cannot_be_built(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(FULL, **change)  # type: ignore[arg-type]
