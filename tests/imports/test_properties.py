"""Properties of the formats operators edit and of the window arithmetic, over generated input.

The cursor line and the retry buffer's CDR XML round-trip every value they can hold, and any
other input (garbage, truncations, byte flips of a valid file, hostile XML) ends in their own
error (`CursorError`, `CdrError`), never another exception and never a hang (hypothesis's
deadline). Successive import windows tile time: no overlap, no gap, never longer than the batch
duration, never past the horizon. Reconciliation days tile time in any zone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import zoneinfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callarchive.imports.cursor import Cursor, CursorError
from callarchive.imports.cursor import parse as parse_cursor
from callarchive.imports.reconciliation import day_window, due_day
from callarchive.imports.retry_buffer import MAX_CDR_BYTES, Cdr, CdrError, RetryReason, render
from callarchive.imports.retry_buffer import parse as parse_cdr
from callarchive.imports.window import horizon, needs_async_job, next_window

MINUTE = dt.timedelta(minutes=1)
ANY_TIME = st.datetimes(timezones=st.just(dt.UTC))  # year 1 to 9999, any microsecond
# Genesys ids and what an operator may write before the ';' (no separator, no line break).
CURSOR_IDS = st.text(
    st.characters(exclude_categories=("Cs", "Zl", "Zp", "Cc"), exclude_characters=";\x85"),
    max_size=200,
).map(str.strip)
GENESYS_IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}", fullmatch=True)


def milliseconds(instant: dt.datetime) -> dt.datetime:
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


# -- the cursor line ---------------------------------------------------------------------------


@given(position=ANY_TIME, conversation_id=CURSOR_IDS)
def test_any_cursor_round_trips_to_the_millisecond(
    position: dt.datetime, conversation_id: str
) -> None:
    line = Cursor(position=position, conversation_id=conversation_id).render()
    again = parse_cursor(line.encode())
    assert again.conversation_id == conversation_id
    assert again.position == milliseconds(position)
    assert parse_cursor(again.render()) == again  # a parsed cursor renders to the same line


@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_garbage_is_a_cursor_or_a_cursor_error(data: bytes) -> None:
    try:
        cursor = parse_cursor(data, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    except CursorError:
        return
    assert cursor.position.tzinfo is not None


@given(
    position=ANY_TIME,
    conversation_id=GENESYS_IDS,
    cut=st.integers(min_value=0, max_value=60),
    flip=st.tuples(st.integers(min_value=0, max_value=300), st.integers(1, 255)),
)
def test_damaged_cursor_lines_never_crash(
    position: dt.datetime, conversation_id: str, cut: int, flip: tuple[int, int]
) -> None:
    line = bytearray(Cursor(position=position, conversation_id=conversation_id).render().encode())
    where, mask = flip
    line[where % len(line)] ^= mask
    for damaged in (bytes(line), bytes(line[: max(0, len(line) - cut)])):
        with contextlib.suppress(CursorError):
            parse_cursor(damaged)


# -- the retry buffer's CDR XML ----------------------------------------------------------------

TIMES = st.datetimes(
    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=14))]),
    min_value=dt.datetime(1, 1, 2),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=dt.datetime(9999, 12, 30),  # noqa: DTZ001 - hypothesis bounds are naive
)
CDRS = st.builds(
    Cdr,
    conversation_id=GENESYS_IDS,
    conversation_start=TIMES,
    policy_id=st.integers(0, 2**63 - 1),
    import_source_id=st.integers(0, 2**63 - 1),
    reason=st.sampled_from(RetryReason),
    message=st.text(max_size=200),
    attempts=st.integers(0, 2**63 - 1),
    first_failed_at=st.none() | TIMES,
    last_failed_at=st.none() | TIMES,
    recording_ids=st.lists(GENESYS_IDS, max_size=5).map(tuple),
    metadata=st.dictionaries(
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,40}", fullmatch=True),
        st.none() | st.text(max_size=100),
        max_size=10,
    ),
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(cdr=CDRS)
def test_any_cdr_round_trips(cdr: Cdr) -> None:
    assert parse_cdr(render(cdr)) == cdr


@given(data=st.binary(max_size=2000))
def test_random_bytes_are_refused_with_a_cdr_error(data: bytes) -> None:
    try:
        parse_cdr(data, source="x.xml")
    except CdrError as error:
        message = str(error)
    else:
        return
    assert message.startswith("x.xml: ")


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    cdr=CDRS,
    edits=st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 255), st.sampled_from("xdi")),
        min_size=1,
        max_size=5,
    ),
)
def test_damaged_cdr_files_are_a_cdr_or_a_cdr_error(
    cdr: Cdr, edits: list[tuple[int, int, str]]
) -> None:
    data = bytearray(render(cdr))
    for where, value, kind in edits:
        at = where % (len(data) + 1)
        if kind == "x" and at < len(data):
            data[at] ^= value or 1
        elif kind == "d":
            del data[at : at + 1 + value % 8]
        else:
            data[at:at] = bytes([value])
    with contextlib.suppress(CdrError):
        parse_cdr(bytes(data))


@given(
    depth=st.integers(1, MAX_CDR_BYTES // 7),
    tag=st.sampled_from(["cdr", "metadata", "a"]),
    entity=st.sampled_from(["", "&lol;", "&#0;", "&#xD800;", "&amp;" * 50]),
)
def test_deep_or_odd_documents_are_refused_quickly(depth: int, tag: str, entity: str) -> None:
    data = (f"<{tag}>" * depth + entity + f"</{tag}>" * depth).encode()
    with contextlib.suppress(CdrError):
        parse_cdr(data)


# -- window arithmetic -------------------------------------------------------------------------


@given(
    start=st.datetimes(
        min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=dt.datetime(2030, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        timezones=st.just(dt.UTC),
    ),
    batch_min=st.integers(1, 7 * 24 * 60),
    length_min=st.integers(0, 1000),
    delay_min=st.integers(0, 1000),
    steps=st.lists(st.integers(0, 3 * 24 * 60), min_size=1, max_size=40),
)
def test_successive_windows_tile_time_within_their_limits(
    start: dt.datetime, batch_min: int, length_min: int, delay_min: int, steps: list[int]
) -> None:
    """A cursor advanced to each window's end, while the clock moves forward by `steps`."""
    now = start + dt.timedelta(minutes=steps[0])
    cursor = start
    covered = dt.timedelta()
    for step in steps:
        now += step * MINUTE
        limit = horizon(
            now, max_recording_length=length_min * MINUTE, availability_delay=delay_min * MINUTE
        )
        window = next_window(
            cursor,
            now,
            batch=batch_min * MINUTE,
            max_recording_length=length_min * MINUTE,
            availability_delay=delay_min * MINUTE,
        )
        assert window.start == cursor  # no gap, no overlap with the previous window
        assert window.start <= window.end <= window.start + batch_min * MINUTE
        assert window.empty or window.end <= limit
        if cursor + batch_min * MINUTE <= limit:
            assert window.end - window.start == batch_min * MINUTE  # a backlog: full batches
        covered += window.end - window.start
        cursor = window.end
    assert covered == cursor - start


@given(
    batch_min=st.integers(1, 7 * 24 * 60),
    length_min=st.integers(0, 1000),
    delay_min=st.integers(0, 1000),
    jumps=st.lists(st.integers(-3 * 24 * 60, 3 * 24 * 60), min_size=1, max_size=40),
)
def test_windows_stay_sane_while_the_clock_jumps_back_and_forth(
    batch_min: int, length_min: int, delay_min: int, jumps: list[int]
) -> None:
    """The clock set forward and back by up to three days at a time: the cursor never moves
    back, windows never overlap nor leave a gap, never exceed the batch duration, and never
    end past the horizon of the clock at the time."""
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    now, cursor = start, start
    for jump in jumps:
        now += jump * MINUTE
        limit = horizon(
            now, max_recording_length=length_min * MINUTE, availability_delay=delay_min * MINUTE
        )
        window = next_window(
            cursor,
            now,
            batch=batch_min * MINUTE,
            max_recording_length=length_min * MINUTE,
            availability_delay=delay_min * MINUTE,
        )
        assert window.start == cursor
        assert window.start <= window.end <= window.start + batch_min * MINUTE
        assert window.end <= max(cursor, limit)
        assert window.empty == (limit <= cursor)
        cursor = window.end


@given(
    start=ANY_TIME.filter(lambda t: t.year < 9999),
    hours=st.integers(0, 24 * 30),
    days_back=st.integers(0, 400),
)
def test_the_query_serves_only_short_recent_windows(
    start: dt.datetime, hours: int, days_back: int
) -> None:
    now = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    begin = now - dt.timedelta(days=days_back)
    window = next_window(
        begin, now, batch=dt.timedelta(hours=hours) or MINUTE, max_recording_length=MINUTE,
        availability_delay=MINUTE,
    )  # fmt: skip
    if window.end - window.start > dt.timedelta(days=7) or days_back > 35:
        assert needs_async_job(window, now)
    del start


# -- reconciliation days -----------------------------------------------------------------------

ZONES = st.sampled_from(["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe"])


@given(day=st.dates(min_value=dt.date(1971, 1, 1), max_value=dt.date(2100, 1, 1)), zone=ZONES)
def test_days_tile_time_in_any_zone(day: dt.date, zone: str) -> None:
    today, tomorrow = day_window(day, zone), day_window(day + dt.timedelta(days=1), zone)
    assert today.end == tomorrow.start
    assert dt.timedelta(hours=22) <= today.end - today.start <= dt.timedelta(hours=26)
    local = today.start.astimezone(zoneinfo.ZoneInfo(zone))
    assert (local.date(), local.time()) == (day, dt.time())


@given(
    limit=st.datetimes(
        min_value=dt.datetime(1971, 1, 2),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=dt.datetime(2100, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        timezones=st.just(dt.UTC),
    ),
    zone=ZONES,
)
def test_the_due_day_is_the_last_one_over_by_the_limit(limit: dt.datetime, zone: str) -> None:
    day = due_day(limit=limit, start=dt.datetime(1970, 1, 1, tzinfo=dt.UTC), timezone=zone)
    assert day is not None
    assert day_window(day, zone).end <= limit < day_window(day + dt.timedelta(days=1), zone).end
