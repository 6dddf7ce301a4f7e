"""Conversation search as the pages and the API take it: from request fields to a query.

Times without an offset are in the viewer's time zone (the seed's users search in local time);
numbers are normalised like the importer does, so `+1 (312) 555-0101` finds `+13125550101`.
Every search carries the viewer's scope: nothing outside it is ever returned.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from callarchive.archive import ConversationQuery, ConversationSort, Direction, Scope
from callarchive.errors import ConfigurationError
from callarchive.rules import normalize_number

E = TypeVar("E", ConversationSort, Direction)
PAGE_SIZES = (25, 50, 100)
MAX_PAGE = 10_000


class SearchCriteria(BaseModel):
    """Which conversations: the criteria shared by searches and legal holds (empty: any)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_from: str = Field("", max_length=40, description="ISO 8601; no offset: viewer's zone")
    start_to: str = Field("", max_length=40, description="exclusive; ISO 8601")
    user: str = Field("", max_length=200, description="recorded user's login")
    number: str = Field("", max_length=320, description="From or To number")
    direction: str = Field("", max_length=16, description="internal, inbound, outbound, external")
    call_id: str = Field("", max_length=64, description="Genesys conversation id")
    min_duration: str = Field("", max_length=9, description="seconds")
    max_duration: str = Field("", max_length=9, description="seconds")


class SearchForm(SearchCriteria):
    """The fields of the search form and of the API's search (query parameters)."""

    min_silence_ratio: str = Field(
        "", max_length=12, description="0 to 1: share where nobody speaks"
    )
    max_silence_ratio: str = Field("", max_length=12, description="0 to 1")
    min_talkover_ratio: str = Field(
        "", max_length=12, description="0 to 1: share of speech where both speak"
    )
    max_talkover_ratio: str = Field("", max_length=12, description="0 to 1")
    min_longest_silence: str = Field("", max_length=12, description="seconds")
    max_longest_silence: str = Field("", max_length=12, description="seconds")
    sort: str = Field(
        "start", max_length=16, description="start, duration, user, from, to, direction"
    )
    order: str = Field("desc", max_length=4, description="asc or desc")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(25, description="25, 50 or 100")


def parse_time(text: str, zone: ZoneInfo, field: str) -> dt.datetime | None:
    """An ISO 8601 date or date and time; without an offset, in `zone`."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(
            f"{text!r} is not a date and time; expected e.g. 2026-11-24 or 2026-11-24T13:05",
            field=field,
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(dt.UTC)


def _seconds(text: str, field: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise ConfigurationError(f"{text!r} is not a number of seconds", field=field)
    return int(text)


def _number(text: str, field: str, *, ratio: bool) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    upper = 1.0 if ratio else math.inf
    if not 0.0 <= value <= upper:
        expected = "a ratio from 0 to 1" if ratio else "a number of seconds"
        raise ConfigurationError(f"{text!r} is not {expected}", field=field)
    return value


def _choice(text: str, kind: type[E], field: str) -> E | None:
    if not text.strip():
        return None
    try:
        return kind(text.strip().lower())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ConfigurationError(f"{text!r} is not one of {allowed}", field=field) from None


def to_query(form: SearchForm, *, scope: Scope, zone: ZoneInfo) -> ConversationQuery:
    """The archive query of `form` for a viewer with `scope`; `ConfigurationError` (with the
    field) for a value that cannot be read."""
    if form.page_size not in PAGE_SIZES:
        raise ConfigurationError(
            f"page size {form.page_size} is not one of {PAGE_SIZES}", field="page_size"
        )
    if not 1 <= form.page <= MAX_PAGE:
        raise ConfigurationError(f"page {form.page} is not between 1 and {MAX_PAGE}", field="page")
    if form.order not in {"asc", "desc"}:
        raise ConfigurationError(f"order {form.order!r} is not asc or desc", field="order")
    number = normalize_number(form.number) if form.number.strip() else None
    return ConversationQuery(
        start_from=parse_time(form.start_from, zone, "start_from"),
        start_to=parse_time(form.start_to, zone, "start_to"),
        user=form.user.strip() or None,
        number=number or (form.number.strip() or None),
        direction=_choice(form.direction, Direction, "direction"),
        platform_call_id=form.call_id.strip() or None,
        min_duration=_seconds(form.min_duration, "min_duration"),
        max_duration=_seconds(form.max_duration, "max_duration"),
        min_silence_ratio=_number(form.min_silence_ratio, "min_silence_ratio", ratio=True),
        max_silence_ratio=_number(form.max_silence_ratio, "max_silence_ratio", ratio=True),
        min_talkover_ratio=_number(form.min_talkover_ratio, "min_talkover_ratio", ratio=True),
        max_talkover_ratio=_number(form.max_talkover_ratio, "max_talkover_ratio", ratio=True),
        min_longest_silence=_number(form.min_longest_silence, "min_longest_silence", ratio=False),
        max_longest_silence=_number(form.max_longest_silence, "max_longest_silence", ratio=False),
        scope=scope,
        sort=_choice(form.sort, ConversationSort, "sort") or ConversationSort.START,
        descending=form.order == "desc",
        offset=(form.page - 1) * form.page_size,
        limit=form.page_size,
    )


__all__ = ["PAGE_SIZES", "SearchCriteria", "SearchForm", "parse_time", "to_query"]
