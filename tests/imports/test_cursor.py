"""The cursor file: the seed's one-line format, strict parsing, clear rejections."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callarchive.imports.cursor import Cursor, CursorError, parse

SEED_EXAMPLE = (
    "c84f2f698fc9d64d64ed161d87b00c25_I_251182078220051266_19d0243a-9fd0-11d1-ac11-13453884b96c;"
    "2023.02.02 07:00:00.000"
)
NOW = dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)


def test_the_seed_example_parses() -> None:
    cursor = parse(SEED_EXAMPLE)
    assert cursor.position == dt.datetime(2023, 2, 2, 7, tzinfo=dt.UTC)
    assert cursor.conversation_id.endswith("13453884b96c")


def test_render_is_the_seed_format() -> None:
    cursor = Cursor(
        position=dt.datetime(2023, 2, 2, 7, 0, 0, 123456, tzinfo=dt.UTC), conversation_id="abc"
    )
    assert cursor.render() == "abc;2023.02.02 07:00:00.123\n"


@given(
    position=st.datetimes(
        min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=dt.datetime(2100, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        timezones=st.just(dt.UTC),
    ),
    conversation_id=st.from_regex(r"[0-9a-f_-]{0,80}", fullmatch=True),
)
def test_round_trip_keeps_milliseconds(position: dt.datetime, conversation_id: str) -> None:
    cursor = Cursor(position=position, conversation_id=conversation_id)
    again = parse(cursor.render())
    assert again.conversation_id == conversation_id
    assert again.position == position.replace(microsecond=position.microsecond // 1000 * 1000)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"   \n\n", "is empty"),
        (b"garbage", "is not <conversation id>"),
        (b"abc,2023.02.02 07:00:00.000", "is not <conversation id>"),
        (b"abc;2023-02-02 07:00:00.000", "is not <conversation id>"),
        (b"abc;2023.02.30 07:00:00.000", "not a valid date"),
        (b"abc;2023.02.02 25:00:00.000", "not a valid date"),
        (b"a;2023.02.02 07:00:00.000\nb;2023.02.02 07:00:00.000", "has 2 lines"),
        (b"abc;2099.01.01 00:00:00.000", "lies in the future"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"x" * 5000, "must be one short line"),
    ],
)
def test_bad_cursor_files_are_rejected_with_a_reason(content: bytes, message: str) -> None:
    with pytest.raises(CursorError, match=message) as raised:
        parse(content, now=NOW, source="laststate/p_s/p_s.cursor")
    assert "laststate/p_s/p_s.cursor" in str(raised.value)


def test_windows_line_endings_and_a_byte_order_mark_are_fine() -> None:
    cursor = parse(b"\xef\xbb\xbfabc;2023.02.02 07:00:00.000\r\n", now=NOW)
    assert cursor.conversation_id == "abc"


def test_empty_conversation_id_is_allowed_before_the_first_import() -> None:
    assert parse(";2023.02.02 07:00:00").conversation_id == ""
