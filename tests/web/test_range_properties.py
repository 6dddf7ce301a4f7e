"""Fuzzing the Range header parser (`byte_range`), which reads what any browser or client sends.

Any header and any object size end in the whole object (None), one range inside the object, or
`RangeNotSatisfiableError` (416); never another exception.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callarchive.web.media import ByteRange, RangeNotSatisfiableError, byte_range

NUMBERS = st.integers(min_value=0, max_value=2**64).map(str) | st.text("0123456789", max_size=30)
RANGE_LIKE = st.builds(
    lambda unit, first, last, tail: f"{unit}={first}-{last}{tail}",
    st.sampled_from(["bytes", "Bytes", "bytes ", "items", ""]),
    NUMBERS | st.just(""),
    NUMBERS | st.just(""),
    st.sampled_from(["", ",0-1", "\n", " ", "-", "x"]),
)
HEADERS = st.none() | st.text(max_size=60) | RANGE_LIKE
SIZES = st.integers(min_value=0, max_value=2**40)


@given(header=HEADERS, size=SIZES)
def test_any_range_header_is_the_whole_object_a_range_inside_it_or_416(
    header: str | None, size: int
) -> None:
    try:
        wanted = byte_range(header, size)
    except RangeNotSatisfiableError:
        return
    if wanted is not None:
        assert 0 <= wanted.start < wanted.end <= size
        assert wanted.size == size


@given(digits=st.integers(min_value=19, max_value=20000), size=SIZES.filter(bool))
def test_offsets_of_thousands_of_digits_lie_past_any_end(digits: int, size: int) -> None:
    nines = "9" * digits  # int() of 4,300 digits or more raises ValueError (a 500 before)
    with pytest.raises(RangeNotSatisfiableError):
        byte_range(f"bytes={nines}-", size)
    assert byte_range(f"bytes=0-{nines}", size) == ByteRange(start=0, end=size, size=size)
    assert byte_range(f"bytes=-{nines}", size) == ByteRange(start=0, end=size, size=size)
