"""The Genesys Cloud client: one small async method per endpoint the importer uses.

The only code in callarchive that knows Genesys URLs, JSON shapes and status codes. The HTTP
pipeline (bearer auth with renewal, the request budget, retries) is assembled by `connect`;
methods only build URLs and parse models. Media comes from signed URLs on other hosts through a
separate client that never carries the bearer token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar

import httpx
import structlog
from pydantic import BaseModel, TypeAdapter, ValidationError

from callarchive.clock import Clock
from callarchive.genesys.auth import BearerAuth, TokenProvider, TokenVault
from callarchive.genesys.connection import ConnectionSettings, proxy, ssl_context
from callarchive.genesys.errors import (
    AuthenticationError,
    DailyLimitError,
    GenesysError,
    GenesysPermissionError,
    GenesysUnavailableError,
    MediaNotReadyError,
    MediaUrlExpiredError,
    NotFoundError,
    ProxyError,
    RequestRejectedError,
    ServerError,
    TlsError,
    TruncatedMediaError,
    UnexpectedMediaError,
)
from callarchive.genesys.models import (
    BatchStatus,
    Conversation,
    GenesysModel,
    JobResultsPage,
    JobStatus,
    QueryPage,
    Recording,
    RecordingMetadata,
    Ref,
    User,
    UserPage,
)
from callarchive.genesys.retry import RequestBudget, RetryingTransport, RetryPolicy, is_tls_failure

log = structlog.get_logger("callarchive.genesys")
ModelT = TypeVar("ModelT", bound=BaseModel)

FORMAT_IDS = ("WAV", "WEBM", "WAV_ULAW", "OGG_VORBIS", "OGG_OPUS", "MP3", "NONE")
QUERY_PAGE_SIZE = 100
MAX_QUERY_RESULTS = 100_000
# The shortest interval a details query over too many conversations is split down to.
MIN_SPLIT = dt.timedelta(seconds=1)
QUERY_ENDPOINT = "POST /api/v2/analytics/conversations/details/query"
MAX_BATCH_ITEMS = 100
MAX_PROTECTION_QUERY = 100
USERS_PER_LOOKUP = 100
USERS_MAX_PAGES = 10  # pages of one look-up (its ids fit in one): more is a paging loop
# Content types that are never a recording (beside text/*): error pages, JSON, XML.
NOT_MEDIA_TYPES = frozenset({"application/json", "application/xml", "application/xhtml+xml"})
JSON_ATTEMPTS = 5
DOWNLOAD_ATTEMPTS = 5
# Media is handed to the sink 256 KiB at a time: each write to the store is a round trip to
# its threads, so fewer, larger chunks cost the event loop less (the socket is read as before).
CHUNK = 256 * 1024

_VOICE_WITH_RECORDING = [
    {
        "type": "and",
        "predicates": [
            {
                "type": "dimension",
                "dimension": "mediaType",
                "operator": "matches",
                "value": "voice",
            },
            {"type": "dimension", "dimension": "recording", "operator": "exists"},
        ],
    }
]


class MediaSink(Protocol):
    """Where downloaded media goes, chunk by chunk; `reset` discards a failed attempt."""

    async def write(self, chunk: bytes) -> None: ...

    async def reset(self) -> None: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class Download:
    size: int
    content_type: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordingsReply:
    """The recordings of a conversation in one format; `ready` is False on a 202."""

    recordings: list[Recording]
    ready: bool
    retry_after_s: float


def interval(start: dt.datetime, end: dt.datetime) -> str:
    """An ISO-8601 interval in UTC with milliseconds, as the analytics API takes it."""
    return f"{_iso(start)}/{_iso(end)}"


def _iso(instant: dt.datetime) -> str:
    utc = instant.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class GenesysClient:
    """Talks to one Genesys Cloud org. Build it with `connect`; close it with `aclose`."""

    def __init__(
        self,
        api: httpx.AsyncClient,
        media: httpx.AsyncClient,
        tokens: TokenProvider,
        *,
        login: httpx.AsyncClient | None = None,
    ) -> None:
        self._api = api
        self._media = media
        self._login = login
        self.tokens = tokens
        self._server_time: dt.datetime | None = None

    def server_time(self) -> dt.datetime | None:
        """Genesys's time: the latest `Date` of its API answers so far (None before the first).

        Whole seconds, so at most a second behind Genesys's clock when it was sent; a system
        clock that leapt ahead is told from it.
        """
        return self._server_time

    async def __aenter__(self) -> GenesysClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._api.aclose()
        await self._media.aclose()
        if self._login is not None:
            await self._login.aclose()

    # -- plumbing --------------------------------------------------------------------------

    async def _send(self, method: str, path: str, endpoint: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._api.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise _transport_error(error, endpoint) from error
        self._note_date(response.headers.get("date"))
        log.debug(
            "genesys_request_sent",
            endpoint=endpoint,
            status=response.status_code,
            correlation_id=response.headers.get("inin-correlation-id"),
        )
        return response

    def _note_date(self, header: str | None) -> None:
        """Keep the newest `Date` header (RFC 9110, 6.6.1) as Genesys's time."""
        date = _http_date(header)
        if date is not None and (self._server_time is None or date > self._server_time):
            self._server_time = date

    async def _json(
        self,
        method: str,
        path: str,
        endpoint: str,
        model: type[ModelT],
        *,
        accept: tuple[int, ...] = (200,),
        **kwargs: Any,
    ) -> tuple[ModelT, int]:
        """Send, map errors, parse `model`; a body that is not valid JSON is asked for again."""
        for attempt in range(1, JSON_ATTEMPTS + 1):
            response = await self._send(method, path, endpoint, **kwargs)
            if response.status_code not in accept:
                raise _status_error(response, endpoint)
            try:
                return model.model_validate_json(response.content), response.status_code
            except ValidationError as error:
                log.warning(
                    "genesys_response_invalid",
                    endpoint=endpoint,
                    attempt=attempt,
                    errors=error.error_count(),
                )
                last = error
        raise GenesysUnavailableError(
            "Genesys answered with a body that does not match the API model: "
            f"{last.errors()[0]['msg']}",
            endpoint=endpoint,
            status=response.status_code,
            correlation_id=response.headers.get("inin-correlation-id"),
        )

    async def _json_list(
        self, path: str, endpoint: str, item: type[ModelT], *, method: str = "GET", **kwargs: Any
    ) -> tuple[list[ModelT], int]:
        adapter = TypeAdapter(list[item])  # type: ignore[valid-type]  # item is a model class
        for attempt in range(1, JSON_ATTEMPTS + 1):
            response = await self._send(method, path, endpoint, **kwargs)
            if response.status_code not in (200, 202):
                raise _status_error(response, endpoint)
            try:
                return list(adapter.validate_json(response.content)), response.status_code
            except ValidationError as error:
                log.warning(
                    "genesys_response_invalid",
                    endpoint=endpoint,
                    attempt=attempt,
                    errors=error.error_count(),
                )
        raise GenesysUnavailableError(
            "Genesys answered with a body that does not match the API model",
            endpoint=endpoint,
            status=response.status_code,
            correlation_id=response.headers.get("inin-correlation-id"),
        )

    # -- analytics -------------------------------------------------------------------------

    async def query_conversations(
        self,
        start: dt.datetime,
        end: dt.datetime,
        *,
        page_size: int = QUERY_PAGE_SIZE,
        conversation_ids: Sequence[str] = (),
        max_results: int = MAX_QUERY_RESULTS,
    ) -> AsyncGenerator[Conversation, None]:
        """Voice conversations with a recording whose lifetime overlaps [start, end).

        Pages until `totalHits` is reached, or, when an answer leaves it out (the model makes
        it optional), until a page shorter than `page_size`; a page that comes back empty
        before `totalHits`, or that repeats the previous one (a paging loop), is an error
        rather than a silent end or an endless loop. An interval holding more conversations
        than one query may page through (`max_results`, Genesys's 100,000) is queried in two
        halves, each yielding the conversations that start in it (those that started before
        `start` come with the first), so a conversation spanning the middle comes once.
        """
        pages = self._query_pages(start, end, page_size, conversation_ids, max_results)
        first = await anext(pages, None)
        if first is None:
            return
        if first.total_hits is not None and first.total_hits > max_results:
            await pages.aclose()
            if len(first.conversations) < page_size:
                raise GenesysUnavailableError(
                    f"page 1 holds {len(first.conversations)} of the {first.total_hits} "
                    "conversations Genesys counts, less than a full page: a wrong count or a "
                    "paging loop",
                    endpoint=QUERY_ENDPOINT,
                )
            middle = start + (end - start) / 2
            # Whole milliseconds, as intervals are sent: each half then asks for exactly it.
            middle -= dt.timedelta(microseconds=middle.microsecond % 1000)
            if end - start < MIN_SPLIT or middle <= start:
                raise GenesysUnavailableError(
                    f"{first.total_hits} conversations between {start} and {end}: more than "
                    f"one details query may page through ({max_results})",
                    endpoint=QUERY_ENDPOINT,
                )
            log.info("query_split", start=start, end=end, total_hits=first.total_hits)
            for first_half in (True, False):
                async for conversation in self.query_conversations(
                    start if first_half else middle,
                    middle if first_half else end,
                    page_size=page_size,
                    conversation_ids=conversation_ids,
                    max_results=max_results,
                ):
                    if (conversation.conversation_start < middle) == first_half:
                        yield conversation
            return
        for conversation in first.conversations:
            yield conversation
        async for page in pages:
            for conversation in page.conversations:
                yield conversation

    async def _query_pages(
        self,
        start: dt.datetime,
        end: dt.datetime,
        page_size: int,
        conversation_ids: Sequence[str],
        max_results: int,
    ) -> AsyncGenerator[QueryPage, None]:
        """The details query's pages over [start, end), checked (see `query_conversations`)."""
        body: dict[str, Any] = {
            "interval": interval(start, end),
            "order": "asc",
            "orderBy": "conversationStart",
            "segmentFilters": _VOICE_WITH_RECORDING,
            **_only(conversation_ids),
        }
        previous: list[str] = []
        last_page = max_results // page_size
        for number in range(1, last_page + 1):
            body["paging"] = {"pageSize": page_size, "pageNumber": number}
            page, _ = await self._json(
                "POST",
                "/api/v2/analytics/conversations/details/query",
                QUERY_ENDPOINT,
                QueryPage,
                json=body,
            )
            ids = [c.conversation_id for c in page.conversations]
            if ids and ids == previous:
                raise GenesysUnavailableError(
                    f"page {number} repeats page {number - 1}: paging loop",
                    endpoint=QUERY_ENDPOINT,
                )
            previous = ids
            received = (number - 1) * page_size
            if not ids and page.total_hits is not None and received < page.total_hits:
                raise GenesysUnavailableError(
                    f"page {number} is empty though Genesys counts {page.total_hits} "
                    f"conversations ({received} received)",
                    endpoint=QUERY_ENDPOINT,
                )
            yield page
            if _last_query_page(len(ids), number * page_size, page_size, page.total_hits):
                return
        raise GenesysUnavailableError(
            f"more than {max_results} conversations in one interval: query shorter windows",
            endpoint=QUERY_ENDPOINT,
        )

    async def submit_details_job(
        self, start: dt.datetime, end: dt.datetime, *, conversation_ids: Sequence[str] = ()
    ) -> str:
        """Start an async details job over [start, end); returns its job id."""
        endpoint = "POST /api/v2/analytics/conversations/details/jobs"
        body = {
            "interval": interval(start, end),
            "order": "asc",
            "orderBy": "conversationStart",
            "segmentFilters": _VOICE_WITH_RECORDING,
            **_only(conversation_ids),
        }
        reply, _ = await self._json(
            "POST",
            "/api/v2/analytics/conversations/details/jobs",
            endpoint,
            _JobId,
            json=body,
            accept=(200, 202),
        )
        return reply.job_id

    async def details_job_status(self, job_id: str) -> JobStatus:
        endpoint = "GET /api/v2/analytics/conversations/details/jobs/{jobId}"
        status, _ = await self._json(
            "GET", f"/api/v2/analytics/conversations/details/jobs/{job_id}", endpoint, JobStatus
        )
        return status

    async def details_job_results(
        self, job_id: str, *, page_size: int = 1000
    ) -> AsyncGenerator[Conversation, None]:
        """Every conversation of a fulfilled job, following the cursor until it is absent."""
        endpoint = "GET /api/v2/analytics/conversations/details/jobs/{jobId}/results"
        path = f"/api/v2/analytics/conversations/details/jobs/{job_id}/results"
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"pageSize": page_size}
            if cursor:
                params["cursor"] = cursor
            page, _ = await self._json("GET", path, endpoint, JobResultsPage, params=params)
            for conversation in page.conversations:
                yield conversation
            if not page.cursor or not page.conversations:
                return
            if page.cursor in seen:
                raise GenesysUnavailableError(
                    "the job results cursor repeats: paging loop", endpoint=endpoint
                )
            seen.add(page.cursor)
            cursor = page.cursor

    async def delete_details_job(self, job_id: str) -> None:
        endpoint = "DELETE /api/v2/analytics/conversations/details/jobs/{jobId}"
        response = await self._send(
            "DELETE", f"/api/v2/analytics/conversations/details/jobs/{job_id}", endpoint
        )
        if response.status_code not in (200, 202, 204, 404):
            raise _status_error(response, endpoint)

    async def data_availability(self) -> dt.datetime:
        """Until when the async jobs' data is complete (`dataAvailabilityDate`)."""
        endpoint = "GET /api/v2/analytics/conversations/details/jobs/availability"
        reply, _ = await self._json(
            "GET",
            "/api/v2/analytics/conversations/details/jobs/availability",
            endpoint,
            _Availability,
        )
        return reply.data_availability_date

    # -- recordings ------------------------------------------------------------------------

    async def recording_metadata(self, conversation_id: str) -> list[RecordingMetadata]:
        endpoint = "GET /api/v2/conversations/{conversationId}/recordingmetadata"
        items, _ = await self._json_list(
            f"/api/v2/conversations/{conversation_id}/recordingmetadata",
            endpoint,
            RecordingMetadata,
        )
        return items

    async def recordings(
        self, conversation_id: str, *, format_id: str, max_wait_ms: int = 5000
    ) -> RecordingsReply:
        """The conversation's recordings in `format_id`; a 202 (transcoding) is `ready=False`."""
        _check_format(format_id)
        endpoint = "GET /api/v2/conversations/{conversationId}/recordings"
        items, status = await self._json_list(
            f"/api/v2/conversations/{conversation_id}/recordings",
            endpoint,
            Recording,
            params={"formatId": format_id, "maxWaitMs": max(1, max_wait_ms)},
        )
        return RecordingsReply(
            recordings=items, ready=status == 200, retry_after_s=_transcode_wait(items)
        )

    async def recording(
        self, conversation_id: str, recording_id: str, *, format_id: str
    ) -> Recording:
        """One recording; raises MediaNotReadyError while it is transcoding (202)."""
        _check_format(format_id)
        endpoint = "GET /api/v2/conversations/{conversationId}/recordings/{recordingId}"
        item, status = await self._json(
            "GET",
            f"/api/v2/conversations/{conversation_id}/recordings/{recording_id}",
            endpoint,
            Recording,
            params={"formatId": format_id},
            accept=(200, 202),
        )
        if status == 202:
            raise MediaNotReadyError(
                f"recording {recording_id} is still being transcoded to {format_id}",
                retry_after_s=_transcode_wait([item]),
                endpoint=endpoint,
                status=202,
            )
        return item

    async def set_delete_date(
        self, conversation_id: str, recording_id: str, when: dt.datetime
    ) -> Recording:
        """Ask Genesys to delete the recording at `when` (there is no DELETE verb)."""
        return await self._retention(conversation_id, recording_id, {"deleteDate": _iso(when)})

    async def set_archive_date(
        self, conversation_id: str, recording_id: str, when: dt.datetime
    ) -> Recording:
        """Set the archive date; on an archived recording this requests its restoration."""
        return await self._retention(conversation_id, recording_id, {"archiveDate": _iso(when)})

    async def _retention(
        self, conversation_id: str, recording_id: str, dates: dict[str, str]
    ) -> Recording:
        endpoint = "PUT /api/v2/conversations/{conversationId}/recordings/{recordingId}"
        item, _ = await self._json(
            "PUT",
            f"/api/v2/conversations/{conversation_id}/recordings/{recording_id}",
            endpoint,
            Recording,
            json=dates,
        )
        return item

    async def deletion_protected(self, conversation_ids: Sequence[str]) -> set[str]:
        """Which of the conversations Genesys protects from deletion (a legal hold there);
        asked about at most 100 at a time, as the API takes them."""
        endpoint = "POST /api/v2/recordings/deletionprotection"
        wanted = list(dict.fromkeys(conversation_ids))
        protected: set[str] = set()
        for first in range(0, len(wanted), MAX_PROTECTION_QUERY):
            refs, _ = await self._json_list(
                "/api/v2/recordings/deletionprotection",
                endpoint,
                Ref,
                method="POST",
                json={"conversationIds": wanted[first : first + MAX_PROTECTION_QUERY]},
            )
            protected.update(ref.id for ref in refs)
        return protected

    async def submit_batch(self, items: Sequence[tuple[str, str | None]]) -> str:
        """Submit a batch download of (conversation id, recording id or None for all)."""
        if not 1 <= len(items) <= MAX_BATCH_ITEMS:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH_ITEMS} items, not {len(items)}")
        requests = [
            {
                "conversationId": conversation_id,
                **({"recordingId": recording_id} if recording_id else {}),
            }
            for conversation_id, recording_id in items
        ]
        endpoint = "POST /api/v2/recording/batchrequests"
        reply, _ = await self._json(
            "POST",
            "/api/v2/recording/batchrequests",
            endpoint,
            _Submitted,
            json={"batchDownloadRequestList": requests},
        )
        return reply.id

    async def batch_status(self, job_id: str) -> BatchStatus:
        endpoint = "GET /api/v2/recording/batchrequests/{jobId}"
        status, _ = await self._json(
            "GET", f"/api/v2/recording/batchrequests/{job_id}", endpoint, BatchStatus
        )
        return status

    # -- users -----------------------------------------------------------------------------

    async def user(self, user_id: str) -> User:
        endpoint = "GET /api/v2/users/{userId}"
        user, _ = await self._json(
            "GET", f"/api/v2/users/{user_id}", endpoint, User, params={"state": "any"}
        )
        return user

    async def users(self, user_ids: Sequence[str]) -> list[User]:
        """Bulk look-up by id, including users who have since left (state any)."""
        endpoint = "GET /api/v2/users"
        wanted = list(dict.fromkeys(user_ids))
        found: list[User] = []
        for first in range(0, len(wanted), USERS_PER_LOOKUP):
            chunk = wanted[first : first + USERS_PER_LOOKUP]
            number = 1
            while True:
                params: list[tuple[str, str | int]] = [("id", i) for i in chunk]
                params += [("pageSize", len(chunk)), ("pageNumber", number), ("state", "any")]
                page, _ = await self._json(
                    "GET", "/api/v2/users", endpoint, UserPage, params=params
                )
                found.extend(page.entities)
                if not page.next_uri or not page.entities:
                    break
                if number >= USERS_MAX_PAGES:
                    raise GenesysUnavailableError(
                        f"the user look-up of {len(chunk)} ids still has a next page after "
                        f"{number} pages: paging loop",
                        endpoint=endpoint,
                    )
                number += 1
        return found

    # -- media -----------------------------------------------------------------------------

    async def download(
        self, url: str, sink: MediaSink, *, max_bytes: int | None = None
    ) -> Download:
        """Stream `url` (a signed media URL) into `sink`, checking its size (the sink computes
        the sha256 of what it keeps: once per byte is enough on the event loop).

        No bearer token is sent. An expired URL raises MediaUrlExpiredError; a body that ends
        early is downloaded again (the sink is reset), up to a few times. A body that is not
        audio (a web page) or longer than `max_bytes` raises UnexpectedMediaError.
        """
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            try:
                return await self._download_once(url, sink, max_bytes)
            except TruncatedMediaError:
                log.info("media_download_retried", attempt=attempt)
                await sink.reset()
                if attempt == DOWNLOAD_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _download_once(self, url: str, sink: MediaSink, max_bytes: int | None) -> Download:
        endpoint = "GET media"
        size = 0
        try:
            async with self._media.stream("GET", url) as response:
                if response.status_code in (403, 404):
                    raise MediaUrlExpiredError(
                        "the media URL has expired or is no longer valid",
                        endpoint=endpoint,
                        status=response.status_code,
                    )
                if response.status_code != 200:
                    raise GenesysUnavailableError(
                        "the media host did not deliver the file",
                        endpoint=endpoint,
                        status=response.status_code,
                    )
                expected = response.headers.get("content-length")
                content_type = response.headers.get("content-type")
                _check_media(content_type, expected, max_bytes, endpoint)
                async for chunk in response.aiter_raw(CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise _oversized(max_bytes, endpoint)
                    await sink.write(chunk)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout) as error:
            raise TruncatedMediaError(
                f"the media download broke off after {size} bytes", endpoint=endpoint
            ) from error
        except httpx.TransportError as error:
            raise _transport_error(error, endpoint) from error
        if expected is not None and int(expected) != size:
            raise TruncatedMediaError(f"received {size} of {expected} bytes", endpoint=endpoint)
        return Download(size=size, content_type=content_type)

    async def download_recording(
        self,
        conversation_id: str,
        recording_id: str,
        *,
        format_id: str,
        sink: MediaSink,
        max_bytes: int | None = None,
    ) -> Download:
        """Fetch a fresh media URL for the recording and download it; re-asks once on expiry."""
        for attempt in (1, 2):
            recording = await self.recording(conversation_id, recording_id, format_id=format_id)
            uri = recording.media_uri()
            if uri is None:
                raise MediaNotReadyError(
                    f"recording {recording_id} has no media ({recording.file_state})",
                    retry_after_s=60.0,
                    endpoint="GET /api/v2/conversations/{conversationId}/recordings/{recordingId}",
                )
            try:
                return await self.download(uri, sink, max_bytes=max_bytes)
            except MediaUrlExpiredError:
                await sink.reset()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover


class _JobId(GenesysModel):
    job_id: str


class _Availability(GenesysModel):
    data_availability_date: dt.datetime


class _Submitted(GenesysModel):
    id: str


def _only(conversation_ids: Sequence[str]) -> dict[str, Any]:
    """A conversation filter selecting just these conversations (none: no filter)."""
    if not conversation_ids:
        return {}
    predicates = [
        {"type": "dimension", "dimension": "conversationId", "operator": "matches", "value": cid}
        for cid in conversation_ids
    ]
    return {"conversationFilters": [{"type": "or", "predicates": predicates}]}


def _http_date(header: str | None) -> dt.datetime | None:
    """An HTTP `Date` header as a UTC time; None when absent or not a date."""
    if not header:
        return None
    try:
        date = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return None
    return date.astimezone(dt.UTC) if date.tzinfo is not None else None


def _last_query_page(count: int, received: int, page_size: int, total_hits: int | None) -> bool:
    """True when a details query page of `count` conversations ends the paging: it is empty,
    `received` (this page included) reaches `totalHits`, or, without `totalHits`, it is short."""
    if total_hits is None:
        return count < page_size
    return count == 0 or received >= total_hits


def _check_media(
    content_type: str | None, length: str | None, max_bytes: int | None, endpoint: str
) -> None:
    """Refuse, before reading the body, what cannot be the recording."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind.startswith("text/") or kind in NOT_MEDIA_TYPES:
        raise UnexpectedMediaError(
            f"the media host answered {kind}, not audio (a sign-in or error page of something "
            "between us and Genesys?)",
            endpoint=endpoint,
            status=200,
        )
    announced = int(length) if length is not None and length.isdigit() else 0
    if max_bytes is not None and announced > max_bytes:
        raise _oversized(max_bytes, endpoint, announced=announced)


def _oversized(max_bytes: int, endpoint: str, announced: int | None = None) -> UnexpectedMediaError:
    said = f"announced {announced} bytes" if announced is not None else "sent more bytes"
    return UnexpectedMediaError(
        f"the media host {said}, more than the {max_bytes} a recording of this conversation's "
        "length can hold in any codec",
        endpoint=endpoint,
        status=200,
    )


def _check_format(format_id: str) -> None:
    if format_id not in FORMAT_IDS:
        raise ValueError(f"formatId must be one of {', '.join(FORMAT_IDS)}, not {format_id!r}")


def _transcode_wait(items: Sequence[Recording]) -> float:
    estimates = [r.estimated_transcode_time_ms or 0 for r in items]
    return max(1.0, max(estimates, default=0) / 1000)


def _error_fields(response: httpx.Response) -> tuple[str | None, str]:
    try:
        body = response.json()
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    return (str(body["code"]) if body.get("code") else None), str(body.get("message") or "")


def _status_error(response: httpx.Response, endpoint: str) -> GenesysError:
    """Map an unexpected status to the error tree (the response body is already read)."""
    status = response.status_code
    code, message = _error_fields(response)
    context: dict[str, Any] = {
        "endpoint": endpoint,
        "status": status,
        "code": code,
        "correlation_id": response.headers.get("inin-correlation-id"),
    }
    if status == 429:
        retry_after = float(response.headers.get("retry-after") or 0)
        if retry_after > 180:
            return DailyLimitError(
                f"Genesys asks to wait {retry_after:.0f} s (a daily limit was reached); "
                "the run ends and the next one carries on",
                retry_after_s=retry_after,
                **context,
            )
        return GenesysUnavailableError("rate limited by Genesys after every retry", **context)
    if status in (502, 503, 504):
        return GenesysUnavailableError("Genesys is unavailable after every retry", **context)
    if status in (401, 407) and context["correlation_id"] is None:
        return ProxyError(
            f"the request was refused ({status}) by something other than Genesys, most likely "
            "the forward proxy: check the proxy username and password",
            **context,
        )
    if status == 401:
        return AuthenticationError(
            "Genesys rejected the access token even after renewing it; check the OAuth client",
            **context,
        )
    if status == 403:
        return GenesysPermissionError(
            f"the OAuth client lacks a permission: {message or 'forbidden'}; "
            "add it to the OAuth client's role",
            **context,
        )
    if status == 404:
        return NotFoundError(message or "not found", **context)
    if status == 407:
        return ProxyError(
            "the forward proxy refused the credentials; check the proxy username and password",
            **context,
        )
    if status >= 500:
        return ServerError(message or "Genesys reported an internal error", **context)
    return RequestRejectedError(message or "Genesys rejected the request", **context)


def _transport_error(error: httpx.TransportError, endpoint: str) -> GenesysError:
    if is_tls_failure(error):
        return TlsError(
            f"TLS failed: {error}; check the TLS Trust List and the client certificate",
            endpoint=endpoint,
        )
    if isinstance(error, httpx.ProxyError):
        return ProxyError(f"the forward proxy failed: {error}", endpoint=endpoint)
    return GenesysUnavailableError(
        f"could not reach Genesys: {type(error).__name__}", endpoint=endpoint
    )


def connect(
    settings: ConnectionSettings,
    *,
    clock: Clock,
    vault: TokenVault | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    policy: RetryPolicy | None = None,
) -> GenesysClient:
    """The real client for `settings`: TLS, proxy, request budget, retries and token renewal.

    `transport` replaces the network transport (all three clients share it).
    """
    verify = ssl_context(settings.tls)
    via = proxy(settings.proxy)

    def network() -> httpx.AsyncBaseTransport:
        return transport or httpx.AsyncHTTPTransport(verify=verify, proxy=via, trust_env=False)

    budget = RequestBudget(settings.requests_per_minute, clock)
    timeout = httpx.Timeout(settings.timeout_s)
    login = httpx.AsyncClient(
        transport=RetryingTransport(network(), clock=clock, policy=policy),
        timeout=timeout,
        trust_env=False,
    )
    tokens = TokenProvider(
        login,
        auth_url=settings.auth_url,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        clock=clock,
        vault=vault,
        via_proxy=settings.proxy.url() if settings.proxy else None,
    )
    api = httpx.AsyncClient(
        base_url=settings.api_url,
        transport=RetryingTransport(network(), clock=clock, policy=policy, budget=budget),
        auth=BearerAuth(tokens),
        timeout=timeout,
        trust_env=False,
        headers={"Accept": "application/json"},
    )
    media = httpx.AsyncClient(
        transport=RetryingTransport(network(), clock=clock, policy=policy, buffer_bodies=False),
        timeout=timeout,
        trust_env=False,
        follow_redirects=True,
    )
    return GenesysClient(api, media, tokens, login=login)
