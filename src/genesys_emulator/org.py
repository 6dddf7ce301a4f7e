"""The emulated Genesys Cloud organisation: its people, numbers and call traffic.

Everything is derived from the seed. The directory (divisions, agents with managers, extensions
and direct numbers, queues, customers) is built once; conversations are generated lazily, one
hour of traffic at a time, from `(seed, hour)`, so any hour of years of history costs the same
and a conversation can be found again from its id alone: the first eight hex digits of a
conversation id encode its hour (masked by the seed), the rest is random.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import random
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from genesys_emulator.config import EmulatorConfig

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
MAIN_LINE = "+13125550100"
INTERNAL_NUMBER_PATTERNS = (r"^\+1312555\d{4}$", r"^\d{4}$")
HOUR = dt.timedelta(hours=1)
# Odd multiplier (and its inverse mod 2**32) that scatters consecutive hours across id prefixes.
_SCATTER = 0x9E3779B1
_UNSCATTER = pow(_SCATTER, -1, 2**32)
_LAST_HOUR = int((dt.datetime(9999, 1, 1, tzinfo=dt.UTC) - EPOCH).total_seconds() // 3600)
LONG_CALL_MAX = dt.timedelta(hours=3)

_FIRST_NAMES = (
    "Alice", "Bruno", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kavya", "Liam", "Maya", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Samir", "Tara",
    "Uma", "Victor", "Wen", "Xavier", "Yara", "Zoe",
)  # fmt: skip
_LAST_NAMES = (
    "Adams", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes", "Ito",
    "Jensen", "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Schmidt",
    "Tanaka", "Usman", "Varga", "Weber",
)  # fmt: skip
_AREA_CODES = ("212", "415", "617", "646", "713", "202", "305", "404", "503", "720")
_DIVISIONS = ("Home", "Trading", "Retail Banking")
_QUEUES = (
    ("Equities Desk", "Institutional"),
    ("FX Desk", "Institutional"),
    ("Retail Support", "Retail"),
    ("Wealth Advisory", "Private Clients"),
)


class CallKind(StrEnum):
    """What kind of conversation this is, from the org's point of view."""

    INBOUND = "inbound"  # a customer calls the main line (IVR, queue) or an agent's direct number
    OUTBOUND = "outbound"  # an agent calls a customer
    INTERNAL = "internal"  # one user calls another
    CHAT = "chat"  # a web chat: no voice session, never returned for voice filters


class FileState(StrEnum):
    """A recording's file state, as in the Recording model."""

    UPLOADING = "UPLOADING"  # the call leg is still going on, or its upload is not finished
    AVAILABLE = "AVAILABLE"  # media can be fetched
    ARCHIVED = "ARCHIVED"  # moved to cold storage; must be restored before download
    RESTORING = "RESTORING"  # restoration requested, not yet done
    RESTORED = "RESTORED"  # restored from the archive, media can be fetched
    DELETED = "DELETED"  # its deleteDate has passed


@dataclass(frozen=True, kw_only=True, slots=True)
class Division:
    id: str
    name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Agent:
    """A Genesys user who takes calls."""

    id: str
    name: str
    username: str
    title: str
    extension: str
    did: str
    manager_id: str | None
    division: Division
    department: str
    state: str  # active, inactive or deleted


@dataclass(frozen=True, kw_only=True, slots=True)
class Queue:
    id: str
    name: str
    partition: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Customer:
    number: str
    name: str | None
    external_contact_id: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentLeg:
    """One agent's part in a conversation: alerted, then (if answered) connected until `end`."""

    participant_id: str
    session_id: str
    user_id: str
    alert_start: dt.datetime
    connect: dt.datetime | None  # None: alerted, never answered
    end: dt.datetime
    disconnect_type: str
    conference: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordingPlan:
    """A recording of one answered agent leg: customer on the left channel, agent on the right."""

    id: str
    conversation_id: str
    session_id: str
    user_id: str
    start: dt.datetime
    end: dt.datetime
    media_subtype: str  # Trunk, or Consult for a conference leg
    sensitive: bool
    audio_seed: int

    @property
    def duration_ms(self) -> int:
        return int((self.end - self.start).total_seconds() * 1000)


@dataclass(frozen=True, kw_only=True, slots=True)
class Conversation:
    """A conversation as it happened (or will happen) in the org."""

    id: str
    kind: CallKind
    start: dt.datetime
    end: dt.datetime
    division_id: str
    ani: str  # the calling number
    dnis: str  # the dialed number
    customer: Customer | None
    caller: Agent | None  # outbound and internal calls: who dialed
    callee: Agent | None  # internal calls: who was called
    queue: Queue | None
    ivr_end: dt.datetime | None  # inbound through the main line: IVR, then the queue
    legs: tuple[AgentLeg, ...]
    recorded: bool
    recordings: tuple[RecordingPlan, ...]
    mos: float
    protocol_call_id: str
    edge_id: str
    participant_ids: tuple[str, ...] = field(default=())

    def ended(self, now: dt.datetime) -> bool:
        return self.end <= now

    def answering_legs(self) -> tuple[AgentLeg, ...]:
        return tuple(leg for leg in self.legs if leg.connect is not None)


def hour_index(instant: dt.datetime) -> int:
    """Whole hours since 2000-01-01 UTC."""
    return int((instant - EPOCH).total_seconds() // 3600)


def hour_start(index: int) -> dt.datetime:
    return EPOCH + index * HOUR


class Org:
    """The seeded organisation and its traffic."""

    def __init__(self, config: EmulatorConfig, today: dt.date) -> None:
        self.config = config
        self.traffic_start = dt.datetime.combine(config.first_day(today), dt.time(), dt.UTC)
        self.traffic_end = config.last_instant(today)
        self._mask = _seeded_int(config.seed, "id-mask") & 0xFFFFFFFF
        rng = random.Random(f"{config.seed}:directory")
        self.divisions = tuple(Division(id=_uuid(rng), name=name) for name in _DIVISIONS)
        self.agents = _make_agents(rng, config.users, self.divisions)
        self.queues = tuple(Queue(id=_uuid(rng), name=n, partition=p) for n, p in _QUEUES)
        self.customers = _make_customers(rng, max(10, config.users * 15))
        self.ivr_flow_id = _uuid(rng)
        self.acd_flow_id = _uuid(rng)
        self.wrapup_code_id = _uuid(rng)
        self._agents_by_id = {agent.id: agent for agent in self.agents}
        self._injected: dict[int, list[Conversation]] = {}
        self._injected_lock = threading.Lock()
        self._injected_count = 0
        self._longest_injected = dt.timedelta()
        self._generated = functools.lru_cache(maxsize=4096)(self._generate_hour)

    # -- directory -------------------------------------------------------------------------

    def agent(self, user_id: str) -> Agent | None:
        return self._agents_by_id.get(user_id)

    def callable_agents(self) -> tuple[Agent, ...]:
        return tuple(agent for agent in self.agents if agent.state != "inactive")

    # -- traffic ---------------------------------------------------------------------------

    def conversation(self, conversation_id: str) -> Conversation | None:
        """Find a conversation from its id alone (its hour is encoded in it)."""
        try:
            index = ((int(conversation_id[:8], 16) ^ self._mask) * _UNSCATTER) % 2**32
        except ValueError:
            return None
        if index > _LAST_HOUR:  # not an id of ours: it decodes to an hour past year 9998
            return None
        for conversation in self.conversations_in_hour(index):
            if conversation.id == conversation_id:
                return conversation
        return None

    def conversations_in_hour(self, index: int) -> tuple[Conversation, ...]:
        generated = self._generated(index)
        with self._injected_lock:
            injected = tuple(self._injected.get(index, ()))
        return generated + injected if injected else generated

    def conversations_started(self, start: dt.datetime, end: dt.datetime) -> Iterator[Conversation]:
        """Conversations with start <= conversationStart < end, in start order."""
        for index in range(hour_index(start), hour_index(end - dt.timedelta(microseconds=1)) + 1):
            hour = sorted(self.conversations_in_hour(index), key=lambda c: (c.start, c.id))
            yield from (c for c in hour if start <= c.start < end)

    @property
    def injected_count(self) -> int:
        """How many conversations were injected: what has changed in the org's history."""
        with self._injected_lock:
            return self._injected_count

    @property
    def longest_call(self) -> dt.timedelta:
        """No conversation lasts longer: how far back a lifetime-overlap search must look."""
        with self._injected_lock:
            return max(LONG_CALL_MAX, self._longest_injected)

    def add_call(
        self,
        *,
        start: dt.datetime,
        duration_s: float,
        kind: CallKind = CallKind.INBOUND,
        recorded: bool = True,
        agents: int = 1,
        sensitive: bool = False,
    ) -> Conversation:
        """Inject one conversation (live traffic on demand)."""
        index = hour_index(start)
        with self._injected_lock:
            self._injected_count += 1
            rng = random.Random(f"{self.config.seed}:injected:{self._injected_count}")
        conversation = self._build(
            rng,
            index,
            start=start,
            duration=dt.timedelta(seconds=duration_s),
            kind=kind,
            recorded=recorded,
            transfers=max(0, agents - 1),
            sensitive=sensitive,
        )
        with self._injected_lock:
            self._injected.setdefault(index, []).append(conversation)
            self._longest_injected = max(
                self._longest_injected, conversation.end - conversation.start
            )
        return conversation

    def _in_traffic(self, instant: dt.datetime) -> bool:
        if instant < self.traffic_start:
            return False
        return self.traffic_end is None or instant < self.traffic_end

    def _generate_hour(self, index: int) -> tuple[Conversation, ...]:
        begin = hour_start(index)
        if not self._in_traffic(begin):
            return ()
        rng = random.Random(f"{self.config.seed}:hour:{index}")
        rate = self.config.calls_per_hour * _diurnal_factor(begin.hour)
        count = _poisson(rng, rate)
        offsets = sorted(rng.random() * 3600.0 for _ in range(count))
        conversations = []
        for offset in offsets:
            start = begin + dt.timedelta(seconds=round(offset, 3))
            conversations.append(
                self._build(
                    rng,
                    index,
                    start=start,
                    duration=self._draw_duration(rng),
                    kind=_draw_kind(rng),
                    recorded=rng.random() < 0.9,
                    transfers=_draw_transfers(rng),
                    sensitive=rng.random() < self.config.sensitive_ratio,
                )
            )
        return tuple(conversations)

    def _draw_duration(self, rng: random.Random) -> dt.timedelta:
        if rng.random() < self.config.long_call_ratio:
            return dt.timedelta(seconds=rng.uniform(2.05 * 3600, 2.95 * 3600))
        sigma = 0.7
        mu = math.log(self.config.mean_call_seconds) - sigma * sigma / 2
        drawn = rng.lognormvariate(mu, sigma)
        seconds = max(self.config.min_call_seconds, min(drawn, self.config.max_call_seconds))
        return dt.timedelta(milliseconds=round(seconds * 1000))

    def _conversation_id(self, rng: random.Random, index: int) -> str:
        bits = rng.getrandbits(128)
        prefix = ((index * _SCATTER) % 2**32) ^ self._mask
        bits = (bits & ~(0xFFFFFFFF << 96)) | (prefix << 96)
        return str(uuid.UUID(int=bits, version=4))

    def _build(
        self,
        rng: random.Random,
        index: int,
        *,
        start: dt.datetime,
        duration: dt.timedelta,
        kind: CallKind,
        recorded: bool,
        transfers: int,
        sensitive: bool,
    ) -> Conversation:
        conversation_id = self._conversation_id(rng, index)
        builder = _CallBuilder(self, rng, conversation_id, start, start + duration)
        return builder.build(kind, recorded=recorded, transfers=transfers, sensitive=sensitive)


class _CallBuilder:
    """Lays out one conversation's participants, legs and recordings in time."""

    def __init__(
        self,
        org: Org,
        rng: random.Random,
        conversation_id: str,
        start: dt.datetime,
        end: dt.datetime,
    ) -> None:
        self.org = org
        self.rng = rng
        self.id = conversation_id
        self.start = start
        self.end = end

    def at(self, fraction: float) -> dt.datetime:
        """The instant at `fraction` of the conversation's length, to the millisecond."""
        span = (self.end - self.start).total_seconds()
        return self.start + dt.timedelta(milliseconds=round(span * fraction * 1000))

    def build(
        self, kind: CallKind, *, recorded: bool, transfers: int, sensitive: bool
    ) -> Conversation:
        rng = self.rng
        agents = self.org.callable_agents()
        customer = rng.choice(self.org.customers)
        first = rng.choice(agents)
        queue: Queue | None = None
        ivr_end: dt.datetime | None = None
        caller: Agent | None = None
        callee: Agent | None = None
        legs: list[AgentLeg] = []
        if kind is CallKind.INBOUND:
            via_ivr = rng.random() < 0.7
            if via_ivr:
                queue = rng.choice(self.org.queues)
                ivr_end = self.at(rng.uniform(0.04, 0.12))
                connect_at = rng.uniform(0.14, 0.22)
                if rng.random() < 0.1 and len(agents) > 1:
                    missed = rng.choice([a for a in agents if a is not first])
                    legs.append(self.leg(missed, self.at(0.125), None, self.at(0.135), "client"))
                ani, dnis = customer.number, MAIN_LINE
            else:
                connect_at = rng.uniform(0.01, 0.04)
                ani, dnis = customer.number, first.did
            legs.extend(self.answered_legs(first, agents, connect_at, transfers))
        elif kind is CallKind.OUTBOUND:
            caller = first
            ani, dnis = first.did, customer.number
            legs.append(self.leg(first, self.start, self.start, self.end, "client"))
        else:
            caller = first
            callee = rng.choice([a for a in agents if a is not first] or [first])
            ani, dnis = first.did, callee.did
            legs.append(self.leg(first, self.start, self.start, self.end, "client"))
        if kind is CallKind.CHAT:
            recorded = False
        recordings = self.recordings(legs, sensitive) if recorded else ()
        return Conversation(
            id=self.id,
            kind=kind,
            start=self.start,
            end=self.end,
            division_id=first.division.id,
            ani=ani,
            dnis=dnis,
            customer=customer if kind is not CallKind.INTERNAL else None,
            caller=caller,
            callee=callee,
            queue=queue,
            ivr_end=ivr_end,
            legs=tuple(legs),
            recorded=recorded,
            recordings=recordings,
            mos=round(rng.uniform(3.4, 4.6), 2),
            protocol_call_id=f"{_uuid(rng)}@{rng.randrange(10, 250)}.0.0.{rng.randrange(1, 250)}",
            edge_id=_uuid(rng),
            participant_ids=tuple(_uuid(rng) for _ in range(4)),
        )

    def answered_legs(
        self, first: Agent, agents: Sequence[Agent], connect_at: float, transfers: int
    ) -> list[AgentLeg]:
        """The answering agent and, on a transfer or conference, the agents after it."""
        others = [a for a in agents if a is not first]
        if transfers == 0 or not others:
            return [
                self.leg(first, self.at(connect_at - 0.01), self.at(connect_at), self.end, "peer")
            ]
        second = self.rng.choice(others)
        split = self.rng.uniform(0.4, 0.7)
        if self.rng.random() < 0.3:  # a conference: the second agent joins and both stay
            return [
                self.leg(first, self.at(connect_at - 0.01), self.at(connect_at), self.end, "peer"),
                self.leg(
                    second, self.at(split - 0.01), self.at(split), self.end, "peer", conference=True
                ),
            ]
        return [
            self.leg(
                first, self.at(connect_at - 0.01), self.at(connect_at), self.at(split), "transfer"
            ),
            self.leg(second, self.at(split), self.at(split + 0.005), self.end, "peer"),
        ]

    def leg(
        self,
        agent: Agent,
        alert: dt.datetime,
        connect: dt.datetime | None,
        end: dt.datetime,
        disconnect_type: str,
        *,
        conference: bool = False,
    ) -> AgentLeg:
        return AgentLeg(
            participant_id=_uuid(self.rng),
            session_id=_uuid(self.rng),
            user_id=agent.id,
            alert_start=alert,
            connect=connect,
            end=end,
            disconnect_type=disconnect_type,
            conference=conference,
        )

    def recordings(self, legs: Sequence[AgentLeg], sensitive: bool) -> tuple[RecordingPlan, ...]:
        plans = []
        for leg in legs:
            if leg.connect is None or leg.end <= leg.connect:
                continue
            recording_id = _uuid(self.rng)
            plans.append(
                RecordingPlan(
                    id=recording_id,
                    conversation_id=self.id,
                    session_id=leg.session_id,
                    user_id=leg.user_id,
                    start=leg.connect,
                    end=leg.end,
                    media_subtype="Consult" if leg.conference else "Trunk",
                    sensitive=sensitive,
                    audio_seed=_seeded_int(self.org.config.seed, recording_id),
                )
            )
        return tuple(plans)


def _make_agents(
    rng: random.Random, count: int, divisions: Sequence[Division]
) -> tuple[Agent, ...]:
    """Agents with a manager chain: a head of desk, supervisors under it, agents under those."""
    count = max(2, count)
    supervisors = max(1, count // 7)
    used: set[str] = set()
    agents: list[Agent] = []
    for i in range(count):
        name = _unique_name(rng, used)
        username = name.lower().replace(" ", ".") + "@example-bank.com"
        if i == 0:
            manager_id, title = None, "Head of Desk"
        elif i <= supervisors:
            manager_id, title = agents[0].id, "Supervisor"
        else:
            manager_id, title = agents[1 + (i % supervisors)].id, "Agent"
        division = divisions[i % len(divisions)]
        state = "active"
        if i == count - 1 and count >= 6:
            state = "deleted"  # left the firm; still present in older calls
        elif i == count - 2 and count >= 6:
            state = "inactive"  # on leave: takes no calls
        agents.append(
            Agent(
                id=_uuid(rng),
                name=name,
                username=username,
                title=title,
                extension=f"{2001 + i}",
                did=f"+1312555{1001 + i:04d}",
                manager_id=manager_id,
                division=division,
                department=division.name,
                state=state,
            )
        )
    return tuple(agents)


def _unique_name(rng: random.Random, used: set[str]) -> str:
    for _ in range(1000):
        name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
        if name not in used:
            used.add(name)
            return name
    name = f"Agent {len(used) + 1}"
    used.add(name)
    return name


def _make_customers(rng: random.Random, count: int) -> tuple[Customer, ...]:
    customers = []
    for _ in range(count):
        number = f"+1{rng.choice(_AREA_CODES)}{rng.randrange(2_000_000, 9_999_999)}"
        known = rng.random() < 0.6
        name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}" if known else None
        customers.append(
            Customer(number=number, name=name, external_contact_id=_uuid(rng) if known else None)
        )
    return tuple(customers)


def _draw_kind(rng: random.Random) -> CallKind:
    roll = rng.random()
    if roll < 0.6:
        return CallKind.INBOUND
    if roll < 0.85:
        return CallKind.OUTBOUND
    if roll < 0.95:
        return CallKind.INTERNAL
    return CallKind.CHAT


def _draw_transfers(rng: random.Random) -> int:
    return 1 if rng.random() < 0.15 else 0


def _diurnal_factor(utc_hour: int) -> float:
    """Busy in business hours, quiet at night; averages 1.0 over a day."""
    weights = [0.15] * 6 + [0.6, 1.0] + [1.7] * 10 + [1.0, 0.6] + [0.3] * 4
    return weights[utc_hour] * 24 / sum(weights)


def _poisson(rng: random.Random, rate: float) -> int:
    if rate <= 0:
        return 0
    if rate > 50:
        return max(0, round(rng.gauss(rate, math.sqrt(rate))))
    limit, k, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _seeded_int(seed: int, label: str) -> int:
    digest = hashlib.sha256(f"{seed}:{label}".encode()).digest()
    return int.from_bytes(digest[:8], "big")
