"""Analytics conversation details: how a conversation looks in the details query and jobs.

Renders an `org.Conversation` as `AnalyticsConversation(WithoutAttributes)` JSON as seen at a
given instant (a conversation in progress has no `conversationEnd`, open segments and no
disconnect types yet), and evaluates the query's interval, filters, order and paging the way the
API reference (section 2) documents them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from genesys_emulator.clock import parse_iso, to_iso
from genesys_emulator.org import Agent, CallKind, Conversation, Org

Json = dict[str, Any]
MAX_INTERVAL = dt.timedelta(days=7)
MAX_AGE_DAYS = 35
MAX_PAGE_SIZE = 100
MAX_RESULTS = 100_000


class QueryError(ValueError):
    """A request the real API answers with 400; `code` is the Genesys error code."""

    def __init__(self, message: str, code: str = "bad.request") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, kw_only=True, slots=True)
class Interval:
    start: dt.datetime
    end: dt.datetime

    @classmethod
    def parse(cls, text: object) -> Interval:
        if not isinstance(text, str) or "/" not in text:
            raise QueryError("interval must be an ISO-8601 interval 'start/end'", "invalid.date")
        first, _, second = text.partition("/")
        try:
            start, end = parse_iso(first), parse_iso(second)
        except ValueError as error:
            raise QueryError(f"invalid interval {text!r}: {error}", "invalid.date") from error
        if end <= start:
            raise QueryError("interval end must be after its start", "invalid.date")
        return cls(start=start, end=end)

    def days_touched(self) -> tuple[dt.datetime, dt.datetime]:
        """Midnight of the first day and the midnight after the last day the interval touches."""
        first = dt.datetime.combine(self.start.date(), dt.time(), dt.UTC)
        last = dt.datetime.combine(
            (self.end - dt.timedelta(microseconds=1)).date(), dt.time(), dt.UTC
        )
        return first, last + dt.timedelta(days=1)


def overlaps(conversation: Conversation, interval: Interval, now: dt.datetime) -> bool:
    """The conversation's lifetime (up to now when still going on) overlaps the interval."""
    end = min(conversation.end, now)
    return conversation.start < interval.end and end >= interval.start


def query_candidates(org: Org, interval: Interval, now: dt.datetime) -> list[Conversation]:
    """The synchronous query: lifetime overlaps, and started on a day the interval touches."""
    first, after = interval.days_touched()
    return [
        c
        for c in org.conversations_started(first, min(after, now + dt.timedelta(microseconds=1)))
        if c.start <= now and overlaps(c, interval, now)
    ]


def job_candidates(
    org: Org, interval: Interval, available: dt.datetime, *, start_of_day: bool
) -> list[Conversation]:
    """The async job: lifetime overlaps; only conversations the data lake already holds."""
    if start_of_day:
        first, after = interval.days_touched()
    else:
        first, after = interval.start - org.longest_call, interval.end
    return [
        c
        for c in org.conversations_started(first, after)
        if c.end <= available and overlaps(c, interval, available)
    ]


def validate_query_interval(interval: Interval, now: dt.datetime) -> None:
    if interval.end - interval.start > MAX_INTERVAL:
        raise QueryError("Intervals may not exceed 7 days; use the details jobs for longer ones")
    oldest = dt.datetime.combine(now.date(), dt.time(), dt.UTC) - dt.timedelta(days=MAX_AGE_DAYS)
    if interval.start < oldest:
        raise QueryError(
            f"Interval start may be at most {MAX_AGE_DAYS} days in the past; "
            "use the details jobs for older data"
        )


def paging(body: Mapping[str, Any]) -> tuple[int, int]:
    spec = body.get("paging") or {}
    if not isinstance(spec, Mapping):
        raise QueryError("paging must be an object with pageSize and pageNumber")
    size, number = spec.get("pageSize", 25), spec.get("pageNumber", 1)
    if not isinstance(size, int) or not isinstance(number, int) or size < 1 or number < 1:
        raise QueryError("paging.pageSize and paging.pageNumber must be positive integers")
    if size > MAX_PAGE_SIZE:
        raise QueryError(f"paging.pageSize may not exceed {MAX_PAGE_SIZE}", "invalid.value")
    if size * number > MAX_RESULTS:
        raise QueryError(f"Pagination may not exceed {MAX_RESULTS} results.")
    return size, number


def order(
    conversations: list[Conversation], body: Mapping[str, Any], now: dt.datetime
) -> list[Conversation]:
    direction = body.get("order", "asc")
    key_name = body.get("orderBy", "conversationStart")
    if direction not in {"asc", "desc", "unordered"}:
        raise QueryError(f"order must be asc, desc or unordered, not {direction!r}")
    if key_name not in {"conversationStart", "conversationEnd", "segmentStart", "segmentEnd"}:
        raise QueryError(f"unsupported orderBy {key_name!r}")
    far = dt.datetime.max.replace(tzinfo=dt.UTC)

    def key(c: Conversation) -> tuple[dt.datetime, str]:
        if key_name in {"conversationEnd", "segmentEnd"}:
            return (c.end if c.ended(now) else far, c.id)
        return (c.start, c.id)

    return sorted(conversations, key=key, reverse=direction == "desc")


# -- filters -------------------------------------------------------------------------------


def matches_filters(rendered: Json, body: Mapping[str, Any]) -> bool:
    """Apply conversationFilters (on the conversation) and segmentFilters (within one session)."""
    for spec in _filters(body, "conversationFilters"):
        if not _filter_matches(spec, [rendered]):
            return False
    for spec in _filters(body, "segmentFilters"):
        views = list(_session_views(rendered))
        if not any(_filter_matches(spec, view) for view in views):
            return False
    return True


def _filters(body: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    specs = body.get(name) or []
    if not isinstance(specs, list) or not all(isinstance(s, Mapping) for s in specs):
        raise QueryError(f"{name} must be a list of filter objects")
    return specs


def _session_views(rendered: Json) -> Iterable[list[Json]]:
    """Each session seen with its participant and segments (most specific first)."""
    for participant in rendered.get("participants", []):
        for session in participant.get("sessions", []):
            yield [*session.get("segments", []), session, participant]


def _filter_matches(spec: Mapping[str, Any], view: Sequence[Json]) -> bool:
    kind = spec.get("type", "and")
    if kind not in {"and", "or"}:
        raise QueryError(f"filter type must be 'and' or 'or', not {kind!r}")
    results = [_predicate_matches(p, view) for p in spec.get("predicates") or []]
    results += [_filter_matches(c, view) for c in spec.get("clauses") or []]
    if not results:
        return True
    return all(results) if kind == "and" else any(results)


def _predicate_matches(predicate: Mapping[str, Any], view: Sequence[Json]) -> bool:
    if predicate.get("type", "dimension") != "dimension":
        raise QueryError("only dimension predicates are supported by this emulator")
    dimension = predicate.get("dimension")
    operator = predicate.get("operator", "matches")
    if not isinstance(dimension, str):
        raise QueryError("predicate.dimension is required")
    values = [layer[dimension] for layer in view if dimension in layer]
    if operator == "exists":
        return any(v not in (None, False) for v in values)
    if operator == "notExists":
        return not any(v not in (None, False) for v in values)
    if operator != "matches":
        raise QueryError(f"unknown predicate operator {operator!r}")
    wanted = str(predicate.get("value", "")).lower()
    return any(str(v).lower() == wanted for v in values)


# -- rendering -----------------------------------------------------------------------------


def render(org: Org, conversation: Conversation, now: dt.datetime, *, attributes: bool) -> Json:
    """The conversation as the details query (or, with attributes, a details job) returns it."""
    return _Renderer(org, conversation, now, attributes).conversation()


def _sub_id(conversation: Conversation, label: str) -> str:
    return str(uuid.uuid5(uuid.UUID(conversation.id), label))


class _Renderer:
    def __init__(self, org: Org, conversation: Conversation, now: dt.datetime, attributes: bool):
        self.org = org
        self.c = conversation
        self.now = now
        self.attributes = attributes
        self.ended = conversation.ended(now)

    def conversation(self) -> Json:
        c = self.c
        body: Json = {
            "conversationId": c.id,
            "conversationStart": to_iso(c.start),
            "originatingDirection": "outbound" if c.kind is CallKind.OUTBOUND else "inbound",
            "conversationInitiator": {
                CallKind.INBOUND: "customer",
                CallKind.OUTBOUND: "agent",
                CallKind.INTERNAL: "user",
                CallKind.CHAT: "customer",
            }[c.kind],
            "customerParticipation": c.kind is not CallKind.INTERNAL,
            "divisionIds": [c.division_id],
        }
        if self.ended:
            body["conversationEnd"] = to_iso(c.end)
            if c.kind is not CallKind.CHAT:
                body["mediaStatsMinConversationMos"] = c.mos
                body["mediaStatsMinConversationRFactor"] = round(c.mos * 20 - 10, 2)
        # A participant is listed once it has joined, i.e. its first segment has started.
        body["participants"] = [
            p for p in self.participants() if any(s["segments"] for s in p["sessions"])
        ]
        return body

    def participants(self) -> list[Json]:
        c = self.c
        out: list[Json] = []
        if c.kind is CallKind.OUTBOUND:
            out.extend(self.agent(leg_index) for leg_index in range(len(c.legs)))
            out.append(self.customer())
            return out
        if c.kind is CallKind.INTERNAL:
            out.append(self.agent(0))
            out.append(self.callee())
            return out
        out.append(self.customer())
        if c.ivr_end is not None and c.queue is not None:
            out.append(self.ivr())
            out.append(self.acd())
        out.extend(self.agent(leg_index) for leg_index in range(len(c.legs)))
        return out

    def segment(self, kind: str, start: dt.datetime, end: dt.datetime, **extra: Any) -> Json | None:
        if start > self.now:
            return None
        seg: Json = {"segmentStart": to_iso(start), "segmentType": kind}
        if end <= self.now:
            seg["segmentEnd"] = to_iso(end)
            seg.update(extra)
        else:
            seg.update({k: v for k, v in extra.items() if k != "disconnectType"})
        return seg

    def session(
        self,
        label: str,
        *,
        direction: str,
        segments: Sequence[Json | None],
        recording: bool = False,
        **extra: Any,
    ) -> Json:
        c = self.c
        session: Json = {
            "sessionId": _sub_id(c, f"session:{label}"),
            "mediaType": "chat" if c.kind is CallKind.CHAT else "voice",
            "direction": direction,
        }
        if c.kind is not CallKind.CHAT:
            session.update(
                {
                    "ani": f"tel:{c.ani}",
                    "dnis": f"tel:{c.dnis}",
                    "sessionDnis": f"tel:{c.dnis}",
                    "edgeId": c.edge_id,
                    "protocolCallId": c.protocol_call_id,
                    "provider": "Edge",
                }
            )
        if recording:
            session["recording"] = True
        session.update(extra)
        present = [s for s in segments if s is not None]
        session["segments"] = present
        return session

    def customer(self) -> Json:
        c = self.c
        customer = c.customer
        direction = "outbound" if c.kind is CallKind.OUTBOUND else "inbound"
        extra: Json = {}
        if customer is not None and customer.name:
            extra["remoteNameDisplayable"] = customer.name
        if self.ended and c.kind is not CallKind.CHAT:
            extra["mediaEndpointStats"] = [
                {
                    "codecs": ["audio/opus"],
                    "eventTime": to_iso(c.end),
                    "minMos": c.mos,
                    "minRFactor": round(c.mos * 20 - 10, 2),
                    "receivedPackets": int((c.end - c.start).total_seconds() * 50),
                    "maxLatencyMs": 40,
                }
            ]
            extra["metrics"] = [
                {"name": "nConnected", "value": 1, "emitDate": to_iso(c.start)},
            ]
        if c.kind is CallKind.INBOUND:
            extra["requestedRoutings"] = ["Standard"]
            extra["usedRouting"] = "Standard"
        interact = self.segment(
            "interact",
            c.start,
            c.end,
            disconnectType="endpoint",
            q850ResponseCodes=[16],
            **({"queueId": c.queue.id} if c.queue else {}),
        )
        participant: Json = {
            "participantId": c.participant_ids[0],
            "purpose": "customer",
            "sessions": [
                self.session(
                    "customer",
                    direction=direction,
                    segments=[interact],
                    recording=c.recorded,
                    **extra,
                )
            ],
        }
        if customer is not None:
            participant["participantName"] = customer.name or customer.number.lstrip("+")
            if customer.external_contact_id:
                participant["externalContactId"] = customer.external_contact_id
        if self.attributes and customer is not None and c.queue is not None:
            participant["attributes"] = {"partition": c.queue.partition}
        return participant

    def ivr(self) -> Json:
        c = self.c
        assert c.ivr_end is not None  # noqa: S101 - caller checked
        assert c.queue is not None  # noqa: S101 - caller checked
        flow = {
            "flowId": self.org.ivr_flow_id,
            "flowName": "Main IVR",
            "flowType": "INBOUNDCALL",
            "flowVersion": "12.0",
            "entryType": "dnis",
            "entryReason": f"tel:{c.dnis}",
            "exitReason": "TRANSFER",
            "transferType": "ACD",
            "transferTargetAddress": c.queue.id,
            "transferTargetName": c.queue.name,
            "startingLanguage": "en-us",
            "endingLanguage": "en-us",
        }
        return {
            "participantId": c.participant_ids[1],
            "participantName": "Main IVR",
            "purpose": "ivr",
            "sessions": [
                self.session(
                    "ivr",
                    direction="inbound",
                    segments=[self.segment("ivr", c.start, c.ivr_end, disconnectType="transfer")],
                    flow=flow,
                    peerId=_sub_id(c, "session:customer"),
                )
            ],
        }

    def acd(self) -> Json:
        c = self.c
        assert c.ivr_end is not None  # noqa: S101 - caller checked
        assert c.queue is not None  # noqa: S101 - caller checked
        first_alert = c.legs[0].alert_start if c.legs else c.end
        return {
            "participantId": c.participant_ids[2],
            "participantName": c.queue.name,
            "purpose": "acd",
            "sessions": [
                self.session(
                    "acd",
                    direction="inbound",
                    segments=[
                        self.segment(
                            "delay",
                            c.ivr_end,
                            first_alert,
                            disconnectType="transfer",
                            queueId=c.queue.id,
                        )
                    ],
                    flow={
                        "flowId": self.org.acd_flow_id,
                        "flowName": f"{c.queue.name} in-queue",
                        "flowType": "INQUEUECALL",
                        "flowVersion": "4.0",
                    },
                    peerId=_sub_id(c, "session:customer"),
                )
            ],
        }

    def agent(self, index: int) -> Json:
        c = self.c
        leg = c.legs[index]
        outgoing = c.kind in (CallKind.OUTBOUND, CallKind.INTERNAL) and index == 0
        queue_extra = {"queueId": c.queue.id} if c.queue else {}
        segments: list[Json | None]
        if outgoing:
            segments = [
                self.segment(
                    "interact", leg.alert_start, leg.end, disconnectType=leg.disconnect_type
                )
            ]
        elif leg.connect is None:
            segments = [
                self.segment(
                    "alert", leg.alert_start, leg.end, disconnectType="client", **queue_extra
                )
            ]
        else:
            segments = [
                self.segment("alert", leg.alert_start, leg.connect, **queue_extra),
                self.segment(
                    "interact",
                    leg.connect,
                    leg.end,
                    disconnectType=leg.disconnect_type,
                    conference=leg.conference,
                    **queue_extra,
                ),
            ]
        recorded = c.recorded and leg.connect is not None
        metrics = self.agent_metrics(leg.alert_start, leg.connect, leg.end)
        extra: Json = {"metrics": metrics} if metrics else {}
        if c.kind is CallKind.INBOUND:
            extra["selectedAgentId"] = leg.user_id
        agent = self.org.agent(leg.user_id)
        participant: Json = {
            "participantId": leg.participant_id,
            "purpose": "user" if c.kind is CallKind.INTERNAL else "agent",
            "userId": leg.user_id,
            "sessions": [
                {
                    **self.session(
                        f"agent:{index}",
                        direction="outbound" if outgoing else "inbound",
                        segments=segments,
                        recording=recorded,
                        **extra,
                    ),
                    "sessionId": leg.session_id,
                }
            ],
        }
        if agent is not None:
            participant["participantName"] = agent.name
        return participant

    def callee(self) -> Json:
        c = self.c
        callee: Agent | None = c.callee
        leg = c.legs[0]
        participant: Json = {
            "participantId": c.participant_ids[3],
            "purpose": "user",
            "sessions": [
                self.session(
                    "callee",
                    direction="inbound",
                    segments=[
                        self.segment("interact", leg.alert_start, leg.end, disconnectType="peer")
                    ],
                    recording=c.recorded,
                )
            ],
        }
        if callee is not None:
            participant["userId"] = callee.id
            participant["participantName"] = callee.name
        return participant

    def agent_metrics(
        self, alert: dt.datetime, connect: dt.datetime | None, end: dt.datetime
    ) -> list[Json]:
        if end > self.now:
            return []

        def ms(a: dt.datetime, b: dt.datetime) -> int:
            return int((b - a).total_seconds() * 1000)

        if connect is None:
            return [{"name": "tAlert", "value": ms(alert, end), "emitDate": to_iso(end)}]
        return [
            {"name": "tAlert", "value": ms(alert, connect), "emitDate": to_iso(connect)},
            {"name": "tAnswered", "value": ms(alert, connect), "emitDate": to_iso(connect)},
            {"name": "tTalk", "value": ms(connect, end), "emitDate": to_iso(end)},
            {"name": "tTalkComplete", "value": ms(connect, end), "emitDate": to_iso(end)},
            {"name": "tHandle", "value": ms(connect, end), "emitDate": to_iso(end)},
        ]
