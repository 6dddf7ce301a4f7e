"""Typed views of the Genesys JSON we read (fields we do not read are ignored, not rejected).

Names follow the official models (`AnalyticsConversation`, `Recording`, `User`, ...) in
snake_case; JSON keys are their camelCase aliases. Parsing failures surface as
`GenesysUnavailableError` at the client boundary.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class GenesysModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class Segment(GenesysModel):
    segment_start: dt.datetime
    segment_end: dt.datetime | None = None
    segment_type: str | None = None
    disconnect_type: str | None = None
    queue_id: str | None = None
    conference: bool | None = None


class MediaEndpointStat(GenesysModel):
    codecs: list[str] = Field(default_factory=list)
    min_mos: float | None = None


class Session(GenesysModel):
    session_id: str | None = None
    media_type: str | None = None
    direction: str | None = None
    ani: str | None = None
    dnis: str | None = None
    session_dnis: str | None = None
    recording: bool = False
    remote_name_displayable: str | None = None
    protocol_call_id: str | None = None
    segments: list[Segment] = Field(default_factory=list)
    media_endpoint_stats: list[MediaEndpointStat] = Field(default_factory=list)


class Participant(GenesysModel):
    participant_id: str | None = None
    participant_name: str | None = None
    purpose: str | None = None
    user_id: str | None = None
    external_contact_id: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    sessions: list[Session] = Field(default_factory=list)


class Conversation(GenesysModel):
    """`AnalyticsConversation` (details query and jobs)."""

    conversation_id: str
    conversation_start: dt.datetime
    conversation_end: dt.datetime | None = None
    originating_direction: str | None = None
    division_ids: list[str] = Field(default_factory=list)
    media_stats_min_conversation_mos: float | None = None
    participants: list[Participant] = Field(default_factory=list)

    @property
    def ended(self) -> bool:
        return self.conversation_end is not None

    def voice_sessions(self) -> list[tuple[Participant, Session]]:
        return [
            (participant, session)
            for participant in self.participants
            for session in participant.sessions
            if session.media_type == "voice"
        ]

    @property
    def recorded(self) -> bool:
        """A voice session says an audio recording was started."""
        return any(session.recording for _, session in self.voice_sessions())


class QueryPage(GenesysModel):
    """`AnalyticsConversationQueryResponse`."""

    conversations: list[Conversation] = Field(default_factory=list)
    # Optional in the model: without it, paging goes on until a short or empty page.
    total_hits: int | None = None


class JobResultsPage(GenesysModel):
    """`AnalyticsConversationAsyncQueryResponse`."""

    conversations: list[Conversation] = Field(default_factory=list)
    cursor: str | None = None
    data_availability_date: dt.datetime | None = None


class JobStatus(GenesysModel):
    """`AsyncQueryStatus`."""

    state: str
    error_message: str | None = None
    expiration_date: dt.datetime | None = None


class MediaResult(GenesysModel):
    media_uri: str | None = None


class RecordingMetadata(GenesysModel):
    """`RecordingMetadata`: a recording without media."""

    id: str
    conversation_id: str | None = None
    media: str | None = None
    media_subtype: str | None = None
    file_state: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    archive_date: dt.datetime | None = None
    delete_date: dt.datetime | None = None


class Recording(RecordingMetadata):
    """`Recording`: with media URIs when the media is ready in the requested format."""

    media_uris: dict[str, MediaResult] | None = None
    estimated_transcode_time_ms: int | None = None
    output_duration_ms: int | None = None
    output_size_in_bytes: int | None = None

    def media_uri(self) -> str | None:
        """The URI of the whole (stereo) file: key "S", else the only one present."""
        uris = self.media_uris or {}
        chosen = uris.get("S") or (next(iter(uris.values())) if len(uris) == 1 else None)
        return chosen.media_uri if chosen else None


class BatchResult(GenesysModel):
    """`BatchDownloadJobResult`."""

    conversation_id: str | None = None
    recording_id: str | None = None
    result_url: str | None = None
    content_type: str | None = None
    error_msg: str | None = None


class BatchStatus(GenesysModel):
    """`BatchDownloadJobStatusResult`."""

    id: str | None = None
    expected_result_count: int = 0
    result_count: int = 0
    error_count: int = 0
    status: str | None = None
    results: list[BatchResult] = Field(default_factory=list)

    @property
    def completed(self) -> bool:
        done = self.result_count >= self.expected_result_count
        return self.status == "Completed" or (self.status is None and done)


class Contact(GenesysModel):
    address: str | None = None
    extension: str | None = None
    display: str | None = None
    media_type: str | None = None
    type: str | None = None


class Ref(GenesysModel):
    id: str
    name: str | None = None


class User(GenesysModel):
    """`User`: who an agent is and how to reach them."""

    id: str
    name: str | None = None
    username: str | None = None
    email: str | None = None
    state: str | None = None
    title: str | None = None
    department: str | None = None
    division: Ref | None = None
    manager: Ref | None = None
    addresses: list[Contact] = Field(default_factory=list)
    primary_contact_info: list[Contact] = Field(default_factory=list)

    def phone_numbers(self) -> list[str]:
        """Every phone number and extension of the user (addresses first)."""
        found: list[str] = []
        for contact in [*self.addresses, *self.primary_contact_info]:
            if contact.media_type not in (None, "PHONE"):
                continue
            for value in (contact.address, contact.extension):
                if value and value not in found:
                    found.append(value)
        return found


class UserPage(GenesysModel):
    """`UserEntityListing`."""

    entities: list[User] = Field(default_factory=list)
    page_number: int = 1
    page_count: int | None = None
    next_uri: str | None = None
