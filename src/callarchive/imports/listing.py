"""The cap on a window's conversations (CALLARCHIVE_WINDOW_MAX_CONVERSATIONS), in one pass.

A run holds its window's conversations until the cursor moves, so a window in which more than
the cap start ends where the first one beyond them starts. Listing it keeps the cap + 1
earliest conversations (a bounded heap, whatever order Genesys lists them in) and every start
time (small), from which come the cut points of the windows after it: each holds at most the cap.
The job's next runs end their windows there (`WindowPlan`) instead of listing the rest of the
long window again and again.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import heapq

from callarchive.genesys import Conversation

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def _order(conversation: Conversation) -> tuple[dt.datetime, str]:
    return conversation.conversation_start, conversation.conversation_id


class EarliestConversations:
    """The `cap` + 1 earliest conversations starting in [start, end) of a listing in any order
    (all of them when `cap` is None), and the start times of all of them: a heap with the
    latest of those held on top, so memory is bounded by the cap whatever the listing's size."""

    def __init__(self, start: dt.datetime, end: dt.datetime, cap: int | None) -> None:
        self.start = start
        self.end = end
        self.cap = cap
        self.starts: list[dt.datetime] = []
        # (minus the start in microseconds, minus the arrival number, the conversation): the
        # smallest item, on top, is the latest start; the number keeps conversations uncompared.
        self._heap: list[tuple[int, int, Conversation]] = []

    @property
    def held(self) -> int:
        """How many conversations are held now (at most the cap + 1)."""
        return len(self._heap)

    def add(self, conversation: Conversation) -> None:
        """Take one listed conversation (those starting outside the window are dropped)."""
        begins = conversation.conversation_start
        if not self.start <= begins < self.end:
            return
        self.starts.append(begins)
        item = (-((begins - _EPOCH) // _MICROSECOND), -len(self.starts), conversation)
        if self.cap is None or len(self._heap) <= self.cap:
            heapq.heappush(self._heap, item)
        else:
            heapq.heappushpop(self._heap, item)  # the latest of them all goes

    def cut_points(self) -> list[dt.datetime]:
        """Where the window and the windows after it end so that each holds at most the cap
        (empty: the whole window does). Conversations sharing an instant stay in one window,
        which may then hold more than the cap."""
        if self.cap is None:
            return []
        self.starts.sort()
        starts = self.starts
        cuts: list[dt.datetime] = []
        first = 0  # the index of the first start of the current part
        previous = self.start
        cap = self.cap
        while len(starts) - first > cap:
            cut = starts[first + cap]
            if cut == previous:  # more than the cap start at the part's first instant
                following = bisect.bisect_right(starts, previous)
                if following == len(starts):
                    break
                cut = starts[following]
            cuts.append(cut)
            previous = cut
            first = bisect.bisect_left(starts, cut)
        return cuts

    def before(self, cut: dt.datetime | None) -> list[Conversation] | None:
        """The conversations starting before `cut` (all of them when None), in start order; or
        None when more start before it than were kept (many at one instant): list again."""
        self.starts.sort()
        count = len(self.starts) if cut is None else bisect.bisect_left(self.starts, cut)
        if self.cap is not None and count > self.cap + 1:
            return None
        kept = sorted((c for *_, c in self._heap), key=_order)
        return [c for c in kept if cut is None or c.conversation_start < cut]


@dataclasses.dataclass
class WindowPlan:
    """Where a pair's next windows end: the cut points of a window listed with more than the
    cap, kept in memory between the runs of one job. A hint only: any window holds what its
    own listing finds, so a plan that no longer fits (the cursor was moved) costs nothing but
    a longer listing."""

    cuts: list[dt.datetime] = dataclasses.field(default_factory=list)
    since: dt.datetime | None = None  # the start of the window whose listing gave the cuts

    def end_after(self, start: dt.datetime) -> dt.datetime | None:
        """The planned end of a window starting at `start`, if the plan covers it."""
        if self.since is None or start < self.since:
            return None
        for cut in self.cuts:
            if cut > start:
                return cut
        return None

    def replace(self, since: dt.datetime, cuts: list[dt.datetime]) -> None:
        self.since = since if cuts else None
        self.cuts = cuts
