"""The window cap in one pass: the earliest conversations of a listing in any order, with memory
bounded by the cap, and the cut points that split a long window into windows of at most
the cap each; the plan that carries those cut points to a job's next windows."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from callarchive.genesys import Conversation
from callarchive.imports.listing import EarliestConversations, WindowPlan

START = dt.datetime(2026, 3, 8, tzinfo=dt.UTC)
END = START + dt.timedelta(days=7)
MINUTE = dt.timedelta(minutes=1)


def conversation(name: str, minute: int) -> Conversation:
    return Conversation(conversation_id=name, conversation_start=START + minute * MINUTE)


# Start minutes in a 7-day window (some outside it, some sharing an instant), in any order.
MINUTES = st.lists(st.integers(min_value=-30, max_value=7 * 24 * 60 + 30), max_size=300)


def _listing(minutes: list[int], cap: int | None) -> EarliestConversations:
    kept = EarliestConversations(START, END, cap)
    for index, minute in enumerate(minutes):
        kept.add(conversation(f"c{index:04d}", minute))
    return kept


def _inside(minutes: list[int]) -> list[Conversation]:
    listed = [conversation(f"c{i:04d}", m) for i, m in enumerate(minutes)]
    inside = [c for c in listed if START <= c.conversation_start < END]
    return sorted(inside, key=lambda c: (c.conversation_start, c.conversation_id))


@given(MINUTES, st.integers(min_value=1, max_value=40))
def test_the_windows_the_cut_points_make_tile_the_window_and_each_holds_at_most_the_cap(
    minutes: list[int], cap: int
) -> None:
    listing = _listing(minutes, cap)
    cuts = listing.cut_points()
    inside = _inside(minutes)
    bounds = [START, *cuts, END]
    assert bounds == sorted(set(bounds))  # strictly increasing: no empty or backward window
    for low, high in itertools.pairwise(bounds):
        part = [c for c in inside if low <= c.conversation_start < high]
        # More than the cap only when they all start at the window's first instant.
        assert len(part) <= cap or {c.conversation_start for c in part} == {low}
        if high != END:  # a window ends early only because the cap is reached
            assert len(part) + sum(c.conversation_start == high for c in inside) > cap
    one_instant = {c.conversation_start for c in inside} == {START}
    assert (cuts == []) == (len(inside) <= cap or one_instant)


@given(MINUTES, st.integers(min_value=1, max_value=40))
def test_the_first_window_gets_exactly_the_conversations_before_its_cut_in_start_order(
    minutes: list[int], cap: int
) -> None:
    listing = _listing(minutes, cap)
    cuts = listing.cut_points()
    cut = cuts[0] if cuts else None
    found = listing.before(cut)
    expected = [c for c in _inside(minutes) if cut is None or c.conversation_start < cut]
    if found is None:  # only when more than the cap start at the first instant
        assert len(expected) > cap + 1
        assert {c.conversation_start for c in expected} == {START}
        assert _listing(minutes, None).before(cut) == expected
    else:
        assert found == expected


def test_memory_stays_within_the_cap_whatever_the_listing_holds() -> None:
    kept = EarliestConversations(START, END, 10)
    for index in range(5000):
        kept.add(conversation(f"c{index:04d}", (5000 - index) % 997))
        assert kept.held <= 11
    assert len(kept.starts) == 5000


def test_many_at_the_first_instant_stay_in_one_window_and_are_listed_again() -> None:
    listing = _listing([0] * 15 + [5, 6], cap=10)
    assert listing.cut_points() == [START + 5 * MINUTE]
    assert listing.before(START + 5 * MINUTE) is None
    assert len(_listing([0] * 15 + [5, 6], cap=None).before(START + 5 * MINUTE) or []) == 15


def test_the_plan_ends_the_windows_it_covers_at_their_cut_points() -> None:
    plan = WindowPlan()
    assert plan.end_after(START) is None
    cuts = [START + 10 * MINUTE, START + 20 * MINUTE, START + 30 * MINUTE]
    plan.replace(START, cuts)
    assert plan.end_after(START) == cuts[0]
    assert plan.end_after(cuts[0]) == cuts[1]
    assert plan.end_after(cuts[0] + MINUTE) == cuts[1]  # a window that ended early
    assert plan.end_after(cuts[2]) is None  # the rest: a window of its own length
    assert plan.end_after(START - MINUTE) is None  # the cursor was moved back
    plan.replace(cuts[2], [])
    assert plan.end_after(START) is None
