"""Metadata: from a Genesys conversation to the standard template (DESIGN.md section 5).

Pure functions of the Genesys conversation, the cached Genesys users, the recording rules and
the import source's settings: who the parties are, who the recorded user is, the numbers and
names on each side, the directions, and the fields the seed marks unavailable where the API
gives them (agent id, dialed number, end cause, voice quality).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence

from callarchive.archive import Conversation as ArchivedConversation
from callarchive.archive import duration_seconds
from callarchive.configuration import Codec
from callarchive.genesys import Conversation, Participant, Session, User
from callarchive.imports.users import UserDirectory
from callarchive.rules import (
    Party,
    RuleBook,
    RuleMatch,
    call_direction,
    normalize_number,
    user_direction,
)

AGENT_PURPOSES = frozenset({"agent", "user"})
PARTITION_ATTRIBUTE = "partition"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Sides:
    """The two ends of a call as the recorder sees them."""

    ani: str | None
    dnis: str | None
    customer_name: str | None
    has_customer: bool
    parties: tuple[tuple[Participant, Party], ...]


def _voice(participant: Participant) -> list[Session]:
    return [s for s in participant.sessions if s.media_type == "voice"]


def party_of(participant: Participant, user: User | None) -> Party:
    sessions = _voice(participant)
    addresses = tuple(a for a in ((user.email, user.username) if user else ()) if a)
    return Party(
        genesys_user_id=participant.user_id,
        name=(user.name if user and user.name else participant.participant_name),
        numbers=tuple(user.phone_numbers()) if user else (),
        addresses=addresses,
        answered=any(seg.segment_type == "interact" for s in sessions for seg in s.segments),
        dialed=any(s.direction == "outbound" for s in sessions),
    )


def sides(conversation: Conversation, users: UserDirectory) -> Sides:
    """The parties (agents and users, in order), the calling and dialed numbers, the customer."""
    ani = dnis = customer_name = None
    has_customer = False
    parties: list[tuple[Participant, Party]] = []
    for participant in conversation.participants:
        sessions = _voice(participant)
        for session in sessions:
            ani = ani or (normalize_number(session.ani) if session.ani else None) or None
            dnis = dnis or (normalize_number(session.dnis) if session.dnis else None) or None
        if participant.purpose == "customer":
            has_customer = True
            customer_name = next(
                (s.remote_name_displayable for s in sessions if s.remote_name_displayable), None
            )
        if participant.purpose in AGENT_PURPOSES and participant.user_id and sessions:
            parties.append((participant, party_of(participant, users.get(participant.user_id))))
    return Sides(
        ani=ani,
        dnis=dnis,
        customer_name=customer_name,
        has_customer=has_customer,
        parties=tuple(parties),
    )


def user_ids(conversation: Conversation) -> set[str]:
    return {
        p.user_id for p in conversation.participants if p.user_id and p.purpose in AGENT_PURPOSES
    }


def partitions(conversation: Conversation) -> tuple[str, ...]:
    """Partition values a routing strategy attached to the call (participant attributes)."""
    found = {
        value.strip()
        for p in conversation.participants
        for key, value in p.attributes.items()
        if key.lower() == PARTITION_ATTRIBUTE and value.strip()
    }
    return tuple(sorted(found))


def _end_cause(participant: Participant | None) -> str | None:
    if participant is None:
        return None
    interacts = [
        seg for s in _voice(participant) for seg in s.segments if seg.segment_type == "interact"
    ]
    return interacts[-1].disconnect_type if interacts else None


def _other_name(s: Sides, matched: Party | None) -> str | None:
    """The name of whoever is on the other side from the recorded user: the customer (when the
    call has one, named or not), else the first other user."""
    if s.has_customer:
        return s.customer_name
    for _, party in s.parties:
        if party is not matched and party.genesys_user_id != (
            matched.genesys_user_id if matched else None
        ):
            return party.name
    return None


def build(
    conversation: Conversation,
    *,
    match: RuleMatch,
    call_sides: Sides,
    rules: RuleBook,
    patterns: Sequence[re.Pattern[str]],
    import_source_id: int,
    policy_id: int,
    location: str,
    codec: Codec,
) -> ArchivedConversation:
    """The archive's conversation (without recordings) for a conversation the rules selected."""
    start = conversation.conversation_start.astimezone(dt.UTC)
    end = (
        conversation.conversation_end.astimezone(dt.UTC) if conversation.conversation_end else None
    )
    direction_user = user_direction(match, originating_direction=conversation.originating_direction)
    outgoing = direction_user.value == "outgoing"
    other = _other_name(call_sides, match.party)
    participant = next((p for p, party in call_sides.parties if party is match.party), None)
    source, target = call_sides.ani or "", call_sides.dnis or ""
    owner_from = rules.owner(source, start) if source else None
    owner_to = rules.owner(target, start) if target else None
    return ArchivedConversation(
        import_source_id=import_source_id,
        policy_id=policy_id,
        genesys_id=conversation.conversation_id,
        start=start,
        end=end,
        duration=duration_seconds(start, end) if end else None,
        user=match.user.name,
        user_login=match.user.login,
        user_id=match.party.genesys_user_id if match.party else None,
        from_number=call_sides.ani,
        from_info=match.user.name if outgoing else other,
        to_number=call_sides.dnis,
        to_info=other if outgoing else match.user.name,
        direction=call_direction(source, target, patterns),
        direction_user=direction_user,
        from_user=owner_from.login if owner_from else None,
        to_user=owner_to.login if owner_to else None,
        location=location,
        dialed_number=call_sides.dnis,
        end_cause=_end_cause(participant),
        audio_codec=codec.value,
        voice_quality=conversation.media_stats_min_conversation_mos,
        partitions=partitions(conversation),
    )
