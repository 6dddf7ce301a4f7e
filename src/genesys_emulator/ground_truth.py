"""Ground truth: what an importer must end up with (`GET /_emulator/ground-truth`).

For every conversation started so far: its ids, times, whether it is recorded and ended, its
agents, the metadata export keys of DESIGN.md section 5 as an importer with every agent
configured as a recorded user (login = Genesys username, extensions = the agent's direct number
and internal extension, internal number patterns as published here) should produce them, and
its recordings with the sha256 of each format and the speech segments of each channel.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from genesys_emulator.audio import FORMATS, MediaCache, SpeechPlan, plan_speech
from genesys_emulator.clock import to_iso
from genesys_emulator.org import (
    INTERNAL_NUMBER_PATTERNS,
    MAIN_LINE,
    Agent,
    CallKind,
    Conversation,
    Org,
    RecordingPlan,
)
from genesys_emulator.recordings import Recordings

Json = dict[str, Any]
_INTERNAL = tuple(re.compile(p) for p in INTERNAL_NUMBER_PATTERNS)


def is_internal(number: str) -> bool:
    return any(p.match(number) for p in _INTERNAL)


def call_direction(source: str, target: str) -> str:
    """Direction from the system's point of view, from the internal number patterns."""
    return {
        (True, True): "internal",
        (False, True): "inbound",
        (True, False): "outbound",
        (False, False): "external",
    }[(is_internal(source), is_internal(target))]


def recorded_user(org: Org, conversation: Conversation) -> Agent | None:
    """The user a compliance recorder files the conversation under."""
    if conversation.caller is not None:
        return conversation.caller
    for leg in conversation.answering_legs():
        return org.agent(leg.user_id)
    return None


def export_keys(org: Org, conversation: Conversation, now: dt.datetime, zone: ZoneInfo) -> Json:
    """The section 5 export keys an importer should produce (location excluded: it is ours)."""
    c = conversation
    user = recorded_user(org, c)
    user_name = user.name if user else None
    customer_name = c.customer.name if c.customer and c.customer.name else None
    if c.kind is CallKind.INBOUND:
        from_info, to_info, direction_user = customer_name, user_name, "incoming"
    elif c.kind is CallKind.OUTBOUND:
        from_info, to_info, direction_user = user_name, customer_name, "outgoing"
    else:
        callee = c.callee.name if c.callee else None
        from_info, to_info, direction_user = user_name, callee, "outgoing"
    ended = c.ended(now)
    start = c.start.astimezone(zone)
    end = c.end.astimezone(zone)
    user_leg = next((leg for leg in c.answering_legs() if user and leg.user_id == user.id), None)
    return {
        "start_date": start.strftime("%Y-%m-%d"),
        "start_time": start.strftime("%H:%M:%S"),
        "end_date": end.strftime("%Y-%m-%d") if ended else None,
        "end_time": end.strftime("%H:%M:%S") if ended else None,
        "duration": math.floor((c.end - c.start).total_seconds() + 0.5) if ended else None,
        "user": user_name,
        "from": c.ani,
        "from_info": from_info,
        "to": c.dnis,
        "to_info": to_info,
        "direction": call_direction(c.ani, c.dnis),
        "direction_user": direction_user,
        "from_user": _user_of_number(org, c.ani),
        "to_user": _user_of_number(org, c.dnis),
        "platform_call_id": c.id,
        "source_platform": "Genesys",
        "conversation_type": "Voice",
        "record_type": "Standard",
        "user_id": user.id if user else None,
        "dialed_number": c.dnis,
        "end_cause": user_leg.disconnect_type if user_leg and ended else None,
        "voice_quality": c.mos if ended else None,
    }


def _user_of_number(org: Org, number: str) -> str | None:
    for agent in org.agents:
        if number in (agent.did, agent.extension):
            return agent.username
    return None


def speech_analysis(speech: SpeechPlan) -> Json:
    """Silence ratio, talk-over ratio and longest silence from the true speech segments."""
    union = _union([*speech.customer, *speech.agent])
    both = _intersection(speech.customer, speech.agent)
    spoken = sum(e - s for s, e in union)
    overlap = sum(e - s for s, e in both)
    edges = [0, *[x for segment in union for x in segment], speech.duration_ms]
    gaps = [edges[i + 1] - edges[i] for i in range(0, len(edges) - 1, 2)]
    duration = max(1, speech.duration_ms)
    return {
        "silence_ratio": round(1 - spoken / duration, 4),
        "talkover_ratio": round(overlap / spoken, 4) if spoken else 0.0,
        "longest_silence": round(max(gaps, default=0) / 1000, 3),
        "customer_speech_s": round(sum(e - s for s, e in speech.customer) / 1000, 3),
        "agent_speech_s": round(sum(e - s for s, e in speech.agent) / 1000, 3),
    }


def _union(segments: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(segments):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _intersection(
    first: Sequence[tuple[int, int]], second: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Where two channels overlap; each channel's segments are disjoint (a sweep, not n*m)."""
    a, b = sorted(first), sorted(second)
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return out


class GroundTruth:
    """Builds the ground-truth document."""

    def __init__(self, org: Org, recordings: Recordings, cache: MediaCache) -> None:
        self.org = org
        self.recordings = recordings
        self.cache = cache

    def document(
        self,
        now: dt.datetime,
        *,
        zone: ZoneInfo,
        formats: Sequence[str],
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> Json:
        first = max(self.org.traffic_start, since or self.org.traffic_start)
        last = min(now + dt.timedelta(microseconds=1), until or now + dt.timedelta(days=1))
        conversations = (
            [
                self.conversation(c, now, zone, formats)
                for c in self.org.conversations_started(first, last)
            ]
            if first < last
            else []
        )
        return {
            "org": {
                "now": to_iso(now),
                "timezone": zone.key,
                "traffic_start": to_iso(self.org.traffic_start),
                "traffic_end": to_iso(self.org.traffic_end) if self.org.traffic_end else None,
                "main_line": MAIN_LINE,
                "internal_number_patterns": list(INTERNAL_NUMBER_PATTERNS),
                "trunk_codec": self.org.config.trunk_codec,
            },
            "users": [self.user(agent) for agent in self.org.agents],
            "conversations": conversations,
        }

    def user(self, agent: Agent) -> Json:
        return {
            "id": agent.id,
            "name": agent.name,
            "username": agent.username,
            "title": agent.title,
            "state": agent.state,
            "extension": agent.extension,
            "number": agent.did,
            "manager_id": agent.manager_id,
            "division": agent.division.name,
        }

    def conversation(
        self, c: Conversation, now: dt.datetime, zone: ZoneInfo, formats: Sequence[str]
    ) -> Json:
        agents = [self.org.agent(leg.user_id) for leg in c.answering_legs()]
        if c.callee is not None:
            agents.append(c.callee)
        return {
            "conversation_id": c.id,
            "kind": c.kind.value,
            "voice": c.kind is not CallKind.CHAT,
            "start": to_iso(c.start),
            "end": to_iso(c.end) if c.ended(now) else None,
            "ended": c.ended(now),
            "recorded": c.recorded,
            "partition": c.queue.partition if c.queue else None,
            "agents": [
                {"user_id": a.id, "extension": a.extension, "number": a.did}
                for a in agents
                if a is not None
            ],
            "export": export_keys(self.org, c, now, zone),
            "recordings": [self.recording(p, now, formats) for p in c.recordings if p.start <= now],
        }

    def recording(self, plan: RecordingPlan, now: dt.datetime, formats: Sequence[str]) -> Json:
        speech = plan_speech(plan.audio_seed, plan.duration_ms)
        body: Json = {
            "recording_id": plan.id,
            "media_subtype": plan.media_subtype,
            "user_id": plan.user_id,
            "start": to_iso(plan.start),
            "end": to_iso(plan.end),
            "duration_ms": plan.duration_ms,
            "channels": 2,
            "sensitive": plan.sensitive,
            "file_state": self.recordings.file_state(plan, now).value,
            "speech": {
                "customer": [list(s) for s in speech.customer],
                "agent": [list(s) for s in speech.agent],
            },
            "analysis": speech_analysis(speech),
            "formats": {},
        }
        for format_id in formats:
            encoded = self.cache.get(plan.id, speech, plan.audio_seed, format_id)
            body["formats"][format_id] = {
                "sha256": encoded.sha256,
                "size": encoded.size,
                "content_type": FORMATS[format_id].content_type,
            }
        return body
