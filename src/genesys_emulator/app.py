"""The emulator's HTTP surface: login host, API host, media host and control API on one port.

Every API request goes through one pipeline (`Emulator.api`): latency, faults, bearer token,
per-token rate limit, permissions, then the endpoint's handler, with errors rendered as the
Genesys `ErrorBody` and an `ININ-Correlation-Id` header, and every outcome counted in the stats.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from genesys_emulator import analytics
from genesys_emulator.analytics import Interval, QueryError
from genesys_emulator.audio import FORMATS, MediaCache, plan_speech
from genesys_emulator.auth import Client, Clients, Token
from genesys_emulator.bandwidth import Link, ThrottledFileResponse
from genesys_emulator.clock import Clock, DateHeader, parse_iso, to_iso
from genesys_emulator.config import EmulatorConfig
from genesys_emulator.faults import Fault, FaultKind, Faults
from genesys_emulator.ground_truth import GroundTruth
from genesys_emulator.limits import RateLimiter
from genesys_emulator.org import CallKind, Conversation, Org
from genesys_emulator.protection import APPLY, REVOKE, conversation_ids, entity_ref
from genesys_emulator.recordings import (
    FORMAT_IDS,
    MAX_BATCH_ITEMS,
    Recordings,
    find_plan,
)
from genesys_emulator.stats import Stats

Json = dict[str, Any]
VIEW_ANALYTICS = "analytics:conversationDetail:view"
VIEW_RECORDINGS = "recording:recording:view"
VIEW_SENSITIVE = "recording:recording:viewSensitiveData"
EDIT_RETENTION = "recording:recording:editRetention"
RESTORE = "recording:recording:restore"
JOB_RESULTS_MAX_PAGE = 1000
USERS_MAX_PAGE = 500


class ApiError(Exception):
    """An error response in the ErrorBody shape."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


@dataclass(frozen=True, kw_only=True, slots=True)
class Call:
    """One authenticated API request as a handler sees it."""

    request: Request
    token: Token
    now: dt.datetime
    base: str

    @property
    def client(self) -> Client:
        return self.token.client


Handler = Callable[[Call], Awaitable[Response]]


@dataclass(frozen=True, kw_only=True, slots=True)
class _RenderedQuery:
    """A details query's matching conversations, rendered, for the pages that follow."""

    key: str  # the query's body without its paging
    injected: int  # the org's injected_count when rendered
    rendered_at: dt.datetime
    conversations: list[Json]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Job:
    id: str
    client_id: str
    body: Mapping[str, Any]
    interval: Interval
    submitted: dt.datetime
    fulfilled_at: dt.datetime


class DroppedConnectionError(Exception):
    """Raised after the response has started so the server drops the connection."""


class _BrokenResponse(Response):
    """Announces `length` bytes, sends `body` (fewer), then drops the connection."""

    def __init__(self, body: bytes, length: int, media_type: str, status: int = 200) -> None:
        super().__init__(content=body, status_code=status, media_type=media_type)
        self.headers["content-length"] = str(length)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        del scope, receive
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        await send({"type": "http.response.body", "body": self.body, "more_body": True})
        raise DroppedConnectionError


# Every key the client reads, with a value of the wrong type (or required ones left out).
MISTYPED_BODY: Json = {
    "totalHits": "many",
    "conversations": {"conversationId": 7},
    "entities": 7,
    "id": 7,
    "jobId": None,
    "state": 7,
    "cursor": 7,
    "dataAvailabilityDate": "yesterday",
}
SIGN_IN_PAGE = b"<!doctype html><html><body><h1>Sign in to continue</h1></body></html>"
OVERSIZED_BYTES = 4 * 1024**3


def error_body(status: int, code: str, message: str, correlation: str, **extra: Any) -> Json:
    return {
        "message": message,
        "code": code,
        "status": status,
        "contextId": correlation,
        "details": [],
        "errors": [],
        **extra,
    }


class Emulator:
    """All state of one emulated org and the handlers that expose it."""

    def __init__(self, config: EmulatorConfig, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or Clock()
        self.org = Org(config, self.clock.now().date())
        clients = [Client(client_id=config.client_id, secret=config.client_secret,
                          permissions=config.client_permissions)]  # fmt: skip
        clients += [
            Client(client_id=i, secret=s, permissions=p) for i, s, p in config.extra_clients
        ]
        self.clients = Clients(clients, config.token_ttl_s)
        self.limiter = RateLimiter(config.rate_limit_per_minute)
        self.link = Link(config.media_bandwidth_kbps) if config.media_bandwidth_kbps > 0 else None
        self.stats = Stats()
        self.faults = Faults(config.faults, config.seed)
        url_key = hashlib.sha256(f"{config.seed}:media-url-key:{uuid.uuid4()}".encode()).digest()
        self.recordings = Recordings(self.org, config, url_key)
        self.recordings.stuck_transcode_ratio = self.faults.stuck_transcode_ratio
        self._cache_dir = self._make_cache_dir(config)
        self.cache = MediaCache(self._cache_dir)
        self.truth = GroundTruth(self.org, self.recordings, self.cache)
        self._jobs: dict[str, _Job] = {}
        # A fulfilled job's conversations, rendered once at its first results read.
        self._job_results: dict[str, list[Json]] = {}
        self._last_query: _RenderedQuery | None = None

    @staticmethod
    def _make_cache_dir(config: EmulatorConfig) -> Path:
        if config.cache_dir:
            path = Path(config.cache_dir)
            path.mkdir(parents=True, exist_ok=True)
            return path
        return Path(tempfile.mkdtemp(prefix="genesys-emulator-media-"))

    # -- pipeline --------------------------------------------------------------------------

    async def api(
        self, request: Request, endpoint: str, permissions: tuple[str, ...], handler: Handler
    ) -> Response:
        correlation = str(uuid.uuid4())
        client_id = "-"
        try:
            await self._latency()
            fault = self.faults.for_api()
            if fault is not None and fault.kind is FaultKind.TOKEN_REVOCATION:
                self.clients.revoke_all()
                fault = None
            now = self.clock.now()
            token = self._authorize(request.headers.get("authorization"), now)
            client_id = token.client.client_id
            wait = self.limiter.admit(token.value, now)
            if wait:
                raise ApiError(
                    429,
                    "too.many.requests.retry.after",
                    f"Rate limit exceeded the maximum. Retry the request in [{wait}] seconds",
                    retry_after=wait,
                )
            early = await self._api_fault(fault)
            if early is not None:
                self.stats.record(endpoint, early.status_code, client_id)
                return early
            missing = [p for p in permissions if p not in token.client.permissions]
            if missing:
                raise ApiError(
                    403,
                    "missing.permissions",
                    f"You are missing the following permission(s): {', '.join(missing)}",
                    messageWithParams="You are missing the following permission(s): {perms}",
                    messageParams={"perms": ", ".join(missing)},
                )
            base = str(request.base_url).rstrip("/")
            response = await handler(Call(request=request, token=token, now=now, base=base))
        except ApiError as error:
            response = self._error_response(error, correlation)
        except QueryError as error:
            response = self._error_response(ApiError(400, error.code, str(error)), correlation)
        response.headers["ININ-Correlation-Id"] = correlation
        self.stats.record(endpoint, response.status_code, client_id)
        return response

    def _authorize(self, authorization: str | None, now: dt.datetime) -> Token:
        if not authorization:
            raise ApiError(
                401,
                "authentication.required",
                "No authentication bearer token specified in authorization header.",
            )
        token = self.clients.token(authorization, now)
        if token is None:
            raise ApiError(401, "bad.credentials", "Invalid login credentials.")
        return token

    async def _api_fault(self, fault: Fault | None) -> Response | None:
        if fault is None:
            return None
        if fault.kind is FaultKind.RATE_LIMIT_BURST:
            raise ApiError(
                429,
                "too.many.requests.retry.after",
                f"Rate limit exceeded the maximum. Retry the request in [{fault.retry_after}] "
                "seconds",
                retry_after=fault.retry_after,
            )
        if fault.kind is FaultKind.SERVER_ERRORS:
            codes = {502: "bad.gateway", 503: "service.unavailable", 504: "request.timeout"}
            raise ApiError(
                fault.status, codes[fault.status], "The service is temporarily unavailable"
            )
        if fault.kind is FaultKind.INTERNAL_ERRORS:
            raise ApiError(
                500, "internal.server.error", "The server encountered an unexpected condition"
            )
        if fault.kind is FaultKind.CONNECTION_RESETS:
            return _BrokenResponse(b'{"conver', 4096, "application/json")
        if fault.kind is FaultKind.SLOW:
            await asyncio.sleep(self.config.slow_ms / 1000)
            return None
        if fault.kind is FaultKind.MALFORMED_JSON:
            return Response(b'{"conversations": [{"conversationId": ', 200,
                            media_type="application/json")  # fmt: skip
        if fault.kind is FaultKind.MISTYPED_FIELDS:
            return JSONResponse(MISTYPED_BODY)
        if fault.kind is FaultKind.WRONG_CONTENT_TYPE:
            return Response(SIGN_IN_PAGE, 200, media_type="text/html")
        return None

    def _error_response(self, error: ApiError, correlation: str) -> Response:
        retry_after = error.extra.pop("retry_after", None)
        body = error_body(error.status, error.code, error.message, correlation, **error.extra)
        response = JSONResponse(body, status_code=error.status)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    async def _latency(self) -> None:
        if self.config.latency_ms > 0:
            await asyncio.sleep(self.config.latency_ms / 1000)

    @staticmethod
    async def json_body(request: Request) -> Json:
        content_type = request.headers.get("content-type", "")
        if "json" not in content_type:
            raise ApiError(415, "unsupported.media.type", "Content-Type must be application/json")
        try:
            body = json.loads(await request.body())
        except ValueError as error:
            raise ApiError(
                400, "bad.request", f"The request body is not valid JSON: {error}"
            ) from error
        if not isinstance(body, dict):
            raise ApiError(400, "bad.request", "The request body must be a JSON object")
        return body

    # -- OAuth -----------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        correlation = str(uuid.uuid4())
        await self._latency()
        fault = self.faults.for_api()
        if fault is not None and fault.kind in (
            FaultKind.SERVER_ERRORS,
            FaultKind.CONNECTION_RESETS,
        ):
            response = await self._token_fault(fault, correlation)
            self.stats.record("POST /oauth/token", response.status_code, "-")
            return response
        client = self.clients.authenticate(request.headers.get("authorization"))
        form = await request.form()
        grant = form.get("grant_type")
        if client is None:
            response = self._oauth_error(401, "invalid_client", "authentication failed")
        elif grant != "client_credentials":
            response = self._oauth_error(
                400, "unsupported_grant_type", f"grant type {grant!r} is not supported"
            )
        else:
            token = self.clients.issue(client, self.clock.now())
            self.stats.token_issued()
            response = JSONResponse(
                {
                    "access_token": token.value,
                    "token_type": "bearer",
                    "expires_in": self.config.token_ttl_s,
                }
            )
        response.headers["ININ-Correlation-Id"] = correlation
        self.stats.record(
            "POST /oauth/token", response.status_code, client.client_id if client else "-"
        )
        return response

    async def _token_fault(self, fault: Fault, correlation: str) -> Response:
        if fault.kind is FaultKind.CONNECTION_RESETS:
            return _BrokenResponse(b'{"access_', 512, "application/json")
        body = error_body(
            fault.status,
            "service.unavailable",
            "The service is temporarily unavailable",
            correlation,
        )
        return JSONResponse(body, status_code=fault.status)

    @staticmethod
    def _oauth_error(status: int, error: str, description: str) -> Response:
        return JSONResponse(
            {"error": error, "description": description, "error_description": description},
            status_code=status,
        )

    # -- analytics -------------------------------------------------------------------------

    async def details_query(self, call: Call) -> Response:
        body = await self.json_body(call.request)
        interval = Interval.parse(body.get("interval"))
        analytics.validate_query_interval(interval, call.now)
        size, number = analytics.paging(body)
        rendered = self._query_matches(body, interval, call.now)
        page = rendered[(number - 1) * size : number * size]
        total = len(rendered)
        paging = self.faults.for_page()
        if paging is FaultKind.EMPTY_PAGES:
            page = []
        elif paging is FaultKind.ENDLESS_PAGING:  # pages never end: the last one, again and again
            total = 1_000_000
            page = page or rendered[-size:]
        response: Json = {} if self.faults.omits_total_hits() else {"totalHits": total}
        if page:
            response["conversations"] = page
        self.stats.listed(len(page))
        return JSONResponse(response)

    def _query_matches(self, body: Json, interval: Interval, now: dt.datetime) -> list[Json]:
        """The details query's matching conversations, rendered; those of the last query are
        used again for its next pages when none of them can have changed: all had ended when
        they were rendered and no call was injected since (a big interval renders thousands)."""
        key = json.dumps({k: v for k, v in body.items() if k != "paging"}, sort_keys=True)
        injected = self.org.injected_count
        last = self._last_query
        if (
            last is not None
            and last.key == key
            and last.injected == injected
            and last.rendered_at <= now
        ):
            return last.conversations
        rendered = self._matching(
            analytics.query_candidates(self.org, interval, now), body, now, attributes=False
        )
        if interval.end + self.org.longest_call <= now:
            self._last_query = _RenderedQuery(
                key=key, injected=injected, rendered_at=now, conversations=rendered
            )
        return rendered

    def _matching(
        self,
        conversations: list[Conversation],
        body: Mapping[str, Any],
        now: dt.datetime,
        *,
        attributes: bool,
    ) -> list[Json]:
        ordered = analytics.order(conversations, body, now)
        rendered = (analytics.render(self.org, c, now, attributes=attributes) for c in ordered)
        return [r for r in rendered if analytics.matches_filters(r, body)]

    async def submit_job(self, call: Call) -> Response:
        body = await self.json_body(call.request)
        interval = Interval.parse(body.get("interval"))
        limit = body.get("limit")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise ApiError(400, "invalid.value", "limit must be a positive integer")
        analytics.order([], body, call.now)  # validates order and orderBy now, not later
        job = _Job(
            id=str(uuid.uuid4()),
            client_id=call.client.client_id,
            body=body,
            interval=interval,
            submitted=call.now,
            fulfilled_at=call.now + dt.timedelta(seconds=self.config.job_delay_s),
        )
        self._jobs[job.id] = job
        return JSONResponse({"jobId": job.id}, status_code=202)

    def _job(self, call: Call) -> _Job:
        job = self._jobs.get(call.request.path_params["jobId"])
        if job is None or job.client_id != call.client.client_id:
            raise ApiError(404, "not.found", "The requested analytics job was not found")
        return job

    async def job_status(self, call: Call) -> Response:
        job = self._job(call)
        body: Json = {
            "state": "FULFILLED" if call.now >= job.fulfilled_at else "QUEUED",
            "submissionDate": to_iso(job.submitted),
            "expirationDate": to_iso(job.fulfilled_at + dt.timedelta(days=1)),
        }
        if call.now >= job.fulfilled_at:
            body["completionDate"] = to_iso(job.fulfilled_at)
        return JSONResponse(body)

    async def delete_job(self, call: Call) -> Response:
        job = self._job(call)
        del self._jobs[job.id]
        self._job_results.pop(job.id, None)
        return Response(status_code=204)

    async def job_results(self, call: Call) -> Response:
        job = self._job(call)
        if call.now < job.fulfilled_at:
            raise ApiError(
                400, "bad.request", "The job is not fulfilled yet; poll its status first"
            )
        size = _int_param(call.request, "pageSize", 100, maximum=JOB_RESULTS_MAX_PAGE)
        offset = _decode_cursor(call.request.query_params.get("cursor"), job.id)
        available = self._data_available(job.fulfilled_at)
        rendered = self._job_results.get(job.id)
        if rendered is None:
            rendered = self._job_conversations(job, available)
            self._job_results[job.id] = rendered
        page = rendered[offset : offset + size]
        body: Json = {"dataAvailabilityDate": to_iso(available)}
        if page:
            body["conversations"] = page
        self.stats.listed(len(page))
        if offset + size < len(rendered):
            body["cursor"] = _encode_cursor(job.id, offset + size)
        return JSONResponse(body)

    def _job_conversations(self, job: _Job, available: dt.datetime) -> list[Json]:
        candidates = analytics.job_candidates(
            self.org,
            job.interval,
            available,
            start_of_day=bool(job.body.get("startOfDayIntervalMatching")),
        )
        rendered = self._matching(candidates, job.body, available, attributes=True)
        limit = job.body.get("limit")
        return rendered[:limit] if isinstance(limit, int) else rendered

    def _data_available(self, now: dt.datetime) -> dt.datetime:
        available = now - dt.timedelta(seconds=self.config.data_lag_s)
        return available.replace(second=0, microsecond=0)

    async def availability(self, call: Call) -> Response:
        return JSONResponse({"dataAvailabilityDate": to_iso(self._data_available(call.now))})

    # -- recordings ------------------------------------------------------------------------

    def _conversation(self, call: Call) -> Conversation:
        conversation = self.org.conversation(call.request.path_params["conversationId"])
        if conversation is None or conversation.start > call.now:
            raise ApiError(404, "not.found", "The requested conversation was not found")
        return conversation

    def _visible_plans(self, call: Call, conversation: Conversation) -> list[Any]:
        return [p for p in conversation.recordings if p.start <= call.now]

    async def recording_metadata(self, call: Call) -> Response:
        conversation = self._conversation(call)
        plans = self._visible_plans(call, conversation)
        return JSONResponse([self.recordings.metadata(p, call.now, call.base) for p in plans])

    async def one_recording_metadata(self, call: Call) -> Response:
        plan = self._plan(call)
        return JSONResponse(self.recordings.metadata(plan, call.now, call.base))

    def _plan(self, call: Call) -> Any:
        conversation = self._conversation(call)
        plan = find_plan(conversation, call.request.path_params["recordingId"])
        if plan is None or plan.start > call.now:
            raise ApiError(404, "not.found", "The requested recording was not found")
        return plan

    def _format(self, call: Call) -> str:
        format_id = call.request.query_params.get("formatId", "WEBM")
        if format_id not in FORMAT_IDS:
            raise ApiError(400, "invalid.value", f"formatId must be one of {', '.join(FORMAT_IDS)}")
        return format_id

    async def list_recordings(self, call: Call) -> Response:
        conversation = self._conversation(call)
        format_id = self._format(call)
        max_wait = _int_param(call.request, "maxWaitMs", 5000, maximum=60_000)
        plans = self._visible_plans(call, conversation)
        deadline = anyio.current_time() + max_wait / 1000
        while True:
            now = self.clock.now()
            pending = [p for p in plans if not self._media_ready(p, format_id, now)]
            if not pending or anyio.current_time() >= deadline:
                break
            await asyncio.sleep(min(0.05, max(0.0, deadline - anyio.current_time())))
        bodies = [
            self.recordings.recording(
                p, now, format_id=format_id, media_base=call.base, ready=p not in pending
            )
            for p in plans
        ]
        return JSONResponse(bodies, status_code=202 if pending else 200)

    def _media_ready(self, plan: Any, format_id: str, now: dt.datetime) -> bool:
        if format_id == "NONE" or not self.recordings.playable(plan, now):
            return self.recordings.file_state(plan, now).value != "UPLOADING"
        return self.recordings.transcode_ready_at(plan, format_id, now) <= now

    async def get_recording(self, call: Call) -> Response:
        plan = self._plan(call)
        format_id = self._format(call)
        ready = self._media_ready(plan, format_id, call.now)
        body = self.recordings.recording(
            plan, call.now, format_id=format_id, media_base=call.base, ready=ready
        )
        return JSONResponse(body, status_code=200 if ready else 202)

    async def put_recording(self, call: Call) -> Response:
        plan = self._plan(call)
        body = await self.json_body(call.request)
        delete_date = _optional_date(body, "deleteDate")
        archive_date = _optional_date(body, "archiveDate")
        state = self.recordings.file_state(plan, call.now).value
        restoring = archive_date is not None and state == "ARCHIVED"
        needed = RESTORE if restoring else EDIT_RETENTION
        if (
            delete_date is not None or archive_date is not None
        ) and needed not in call.client.permissions:
            raise ApiError(
                403,
                "missing.permissions",
                f"You are missing the following permission(s): {needed}",
                messageWithParams="You are missing the following permission(s): {perms}",
                messageParams={"perms": needed},
            )
        if state == "DELETED":
            raise ApiError(400, "bad.request", "The recording has been deleted")
        self.recordings.update_retention(
            plan, call.now, delete_date=delete_date, archive_date=archive_date
        )
        return JSONResponse(
            self.recordings.recording(
                plan, call.now, format_id="NONE", media_base=call.base, ready=False
            )
        )

    async def submit_batch(self, call: Call) -> Response:
        body = await self.json_body(call.request)
        items = body.get("batchDownloadRequestList")
        if not isinstance(items, list) or not items:
            raise ApiError(
                400, "bad.request", "batchDownloadRequestList must list at least one item"
            )
        if len(items) > MAX_BATCH_ITEMS:
            raise ApiError(
                400,
                "bad.request",
                f"batchDownloadRequestList may hold at most {MAX_BATCH_ITEMS} items",
            )
        if not all(isinstance(i, dict) and isinstance(i.get("conversationId"), str) for i in items):
            raise ApiError(400, "bad.request", "every batch item needs a conversationId")
        job = self.recordings.submit_batch(
            items,
            client_id=call.client.client_id,
            sensitive_allowed=VIEW_SENSITIVE in call.client.permissions,
            now=call.now,
        )
        return JSONResponse({"id": job.id, "selfUri": f"/api/v2/recording/batchrequests/{job.id}"})

    async def batch_status(self, call: Call) -> Response:
        job = self.recordings.batch(call.request.path_params["jobId"])
        if job is None:
            raise ApiError(404, "not.found", "The requested batch job was not found")
        if job.client_id != call.client.client_id:
            raise ApiError(
                403, "not.authorized", "Only the client that submitted the job may read it"
            )
        return JSONResponse(self.recordings.batch_status(job, call.now, call.base))

    async def protected_conversations(self, call: Call) -> Response:
        ids = conversation_ids(await self.json_body(call.request))
        if isinstance(ids, str):
            raise ApiError(400, "bad.request", ids)
        protected = self.recordings.protection.protected_among(ids)
        return JSONResponse([entity_ref(c) for c in protected])

    async def protect_conversations(self, call: Call) -> Response:
        protect = call.request.query_params.get("protect", "true").lower()
        if protect not in {"true", "false"}:
            raise ApiError(400, "invalid.value", "protect must be true or false")
        needed = APPLY if protect == "true" else REVOKE
        if needed not in call.client.permissions:
            raise ApiError(
                403,
                "missing.permissions",
                f"You are missing the following permission(s): {needed}",
                messageWithParams="You are missing the following permission(s): {perms}",
                messageParams={"perms": needed},
            )
        ids = conversation_ids(await self.json_body(call.request))
        if isinstance(ids, str):
            raise ApiError(400, "bad.request", ids)
        if protect == "true":
            self.recordings.protection.apply(ids)
        else:
            self.recordings.protection.revoke(ids)
        return Response(status_code=204)

    # -- users -----------------------------------------------------------------------------

    async def get_user(self, call: Call) -> Response:
        agent = self.org.agent(call.request.path_params["userId"])
        state = call.request.query_params.get("state", "active")
        # A user who has left is found only when asked for with state=deleted (or any).
        if agent is None or (agent.state == "deleted" and state not in {"deleted", "any"}):
            raise ApiError(404, "not.found", "The requested user was not found")
        return JSONResponse(self._user_json(agent.id, call))

    async def list_users(self, call: Call) -> Response:
        params = call.request.query_params
        size = _int_param(call.request, "pageSize", 25, maximum=USERS_MAX_PAGE)
        number = _int_param(call.request, "pageNumber", 1, maximum=1_000_000)
        state = params.get("state", "active")
        if state not in {"active", "inactive", "deleted", "any"}:
            raise ApiError(400, "invalid.value", "state must be active, inactive, deleted or any")
        wanted = set(params.getlist("id"))
        agents = [
            a
            for a in self.org.agents
            if (not wanted or a.id in wanted) and state in {"any", a.state}
        ]
        page = agents[(number - 1) * size : number * size]
        pages = max(1, -(-len(agents) // size))
        query = "&".join(f"id={i}" for i in sorted(wanted))
        suffix = f"&{query}" if query else ""

        def uri(n: int) -> str:
            return f"/api/v2/users?pageSize={size}&pageNumber={n}&state={state}{suffix}"

        body: Json = {
            "entities": [self._user_json(a.id, call) for a in page],
            "pageSize": size,
            "pageNumber": number,
            "total": len(agents),
            "pageCount": pages,
            "firstUri": uri(1),
            "lastUri": uri(pages),
            "selfUri": uri(number),
        }
        if number < pages or self.faults.for_page() is FaultKind.ENDLESS_PAGING:
            body["nextUri"] = uri(number + 1)
        if number > 1:
            body["previousUri"] = uri(number - 1)
        return JSONResponse(body)

    def _user_json(self, user_id: str, call: Call) -> Json:
        agent = self.org.agent(user_id)
        assert agent is not None  # noqa: S101 - callers looked it up
        body: Json = {
            "id": agent.id,
            "name": agent.name,
            "division": {
                "id": agent.division.id,
                "name": agent.division.name,
                "selfUri": f"/api/v2/authorization/divisions/{agent.division.id}",
            },
            "chat": {"jabberId": f"{agent.id[:12]}@example-bank.orgspan.com"},
            "department": agent.department,
            "email": agent.username,
            "primaryContactInfo": [
                {"address": agent.username, "mediaType": "EMAIL", "type": "PRIMARY"},
                {
                    "address": agent.did,
                    "display": _display(agent.did),
                    "mediaType": "PHONE",
                    "type": "PRIMARY",
                },
            ],
            "addresses": [
                {
                    "address": agent.did,
                    "display": _display(agent.did),
                    "mediaType": "PHONE",
                    "type": "WORK",
                },
                {
                    "extension": agent.extension,
                    "display": agent.extension,
                    "mediaType": "PHONE",
                    "type": "WORK2",
                },
            ],
            "state": agent.state,
            "title": agent.title,
            "username": agent.username,
            "version": 3,
            "acdAutoAnswer": False,
            "selfUri": f"/api/v2/users/{agent.id}",
        }
        if agent.manager_id is not None:
            body["manager"] = {
                "id": agent.manager_id,
                "selfUri": f"/api/v2/users/{agent.manager_id}",
            }
        del call
        return body

    # -- media host ------------------------------------------------------------------------

    async def media(self, request: Request) -> Response:
        endpoint = "GET /media"
        if request.headers.get("authorization"):
            self.stats.media_bearer_seen()
        response = await self._media_response(request)
        self.stats.record(endpoint, response.status_code, "-")
        return response

    async def _media_response(self, request: Request) -> Response:
        params = request.query_params
        conversation_id = request.path_params["conversation_id"]
        recording_id = request.path_params["file"].rsplit(".", 1)[0]
        format_id = params.get("format", "")
        try:
            expires = int(params.get("Expires", ""))
        except ValueError:
            return _s3_error(403, "AccessDenied", "Query-string authentication requires Expires")
        signature = params.get("Signature", "")
        if format_id not in FORMATS or not self.recordings.check_signature(
            conversation_id, recording_id, format_id, expires, signature
        ):
            return _s3_error(403, "SignatureDoesNotMatch", "The request signature does not match")
        now = self.clock.now()
        if now.timestamp() > expires:
            return _s3_error(403, "AccessDenied", "Request has expired")
        conversation = self.org.conversation(conversation_id)
        plan = find_plan(conversation, recording_id) if conversation else None
        if plan is None or not self.recordings.playable(plan, now):
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        fault = self.faults.for_media()
        if fault is not None and fault.kind is FaultKind.SERVER_ERRORS:
            return _s3_error(503, "SlowDown", "Please reduce your request rate.")
        if fault is not None and fault.kind is FaultKind.WRONG_CONTENT_TYPE:
            return Response(SIGN_IN_PAGE, 200, media_type="text/html")
        if fault is not None and fault.kind is FaultKind.HANGING_MEDIA:
            return await _hang(request)
        speech = plan_speech(plan.audio_seed, plan.duration_ms)
        encoded = await anyio.to_thread.run_sync(
            self.cache.get, plan.id, speech, plan.audio_seed, format_id
        )
        media_type = FORMATS[format_id].content_type
        if fault is not None and fault.kind is FaultKind.SLOW:
            await asyncio.sleep(self.config.slow_ms / 1000)
        if fault is not None and fault.kind in (
            FaultKind.TRUNCATED_MEDIA,
            FaultKind.CONNECTION_RESETS,
        ):
            cut = encoded.size // 2 if fault.kind is FaultKind.TRUNCATED_MEDIA else 0
            data = await anyio.to_thread.run_sync(_read_prefix, encoded.path, cut)
            return _BrokenResponse(data, encoded.size, media_type)
        if fault is not None and fault.kind is FaultKind.OVERSIZED_MEDIA:
            return _oversized(request, encoded.path, media_type)
        headers = {"ETag": f'"{encoded.sha256}"'}
        if self.link is not None:
            return ThrottledFileResponse(
                encoded.path, media_type=media_type, headers=headers, link=self.link
            )
        return FileResponse(encoded.path, media_type=media_type, headers=headers)

    # -- control API -----------------------------------------------------------------------

    async def ground_truth(self, request: Request) -> Response:
        params = request.query_params
        try:
            zone = ZoneInfo(params.get("timezone", "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            return JSONResponse({"error": f"unknown timezone {params.get('timezone')!r}"}, 400)
        formats_param = params.get("formats", ",".join(FORMATS))
        formats = [] if formats_param in {"", "none"} else formats_param.split(",")
        unknown = [f for f in formats if f not in FORMATS]
        if unknown:
            return JSONResponse(
                {"error": f"unknown formats {unknown}; known: {list(FORMATS)}"}, 400
            )
        try:
            since = parse_iso(params["from"]) if "from" in params else None
            until = parse_iso(params["to"]) if "to" in params else None
        except ValueError as error:
            return JSONResponse({"error": f"bad from/to: {error}"}, 400)
        now = self.clock.now()
        document = await anyio.to_thread.run_sync(
            lambda: self.truth.document(now, zone=zone, formats=formats, since=since, until=until)
        )
        return JSONResponse(document)

    async def stats_endpoint(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.stats.reset()
        return JSONResponse(self.stats.snapshot())

    async def clock_endpoint(self, request: Request) -> Response:
        if request.method == "POST":
            body = await _control_json(request)
            try:
                if "advance_s" in body:
                    self.clock.advance(float(body["advance_s"]))
                elif "now" in body:
                    self.clock.set(parse_iso(str(body["now"])))
                else:
                    return JSONResponse(
                        {"error": "give advance_s (seconds) or now (ISO-8601)"}, 400
                    )
            except (TypeError, ValueError) as error:
                return JSONResponse({"error": str(error)}, 400)
        return JSONResponse({"now": to_iso(self.clock.now())})

    async def faults_endpoint(self, request: Request) -> Response:
        revoked = 0
        if request.method == "POST":
            body = await _control_json(request)
            try:
                if "profile" in body:
                    self.faults.configure(str(body["profile"]))
                    self.recordings.stuck_transcode_ratio = self.faults.stuck_transcode_ratio
            except ValueError as error:
                return JSONResponse({"error": str(error)}, 400)
            if body.get("revoke_tokens"):
                revoked = self.clients.revoke_all()
        return JSONResponse({"profile": self.faults.spec(), "revoked_tokens": revoked})

    async def calls_endpoint(self, request: Request) -> Response:
        body = await _control_json(request)
        try:
            start = parse_iso(str(body["start"])) if "start" in body else self.clock.now()
            conversation = self.org.add_call(
                start=start,
                duration_s=float(body.get("duration_s", 60)),
                kind=CallKind(body.get("kind", "inbound")),
                recorded=bool(body.get("recorded", True)),
                agents=int(body.get("agents", 1)),
                sensitive=bool(body.get("sensitive", False)),
            )
        except (TypeError, ValueError) as error:
            return JSONResponse({"error": str(error)}, 400)
        if body.get("deletion_protected"):
            self.recordings.protection.apply([conversation.id])
        return JSONResponse(
            {
                "conversation_id": conversation.id,
                "start": to_iso(conversation.start),
                "end": to_iso(conversation.end),
                "recording_ids": [p.id for p in conversation.recordings],
            },
            status_code=201,
        )

    async def clients_endpoint(self, request: Request) -> Response:
        body = await _control_json(request)
        try:
            client = Client(
                client_id=str(body["client_id"]),
                secret=str(body["client_secret"]),
                permissions=frozenset(str(p) for p in body.get("permissions", [])),
            )
        except KeyError as error:
            return JSONResponse({"error": f"missing {error}"}, 400)
        self.clients.add(client)
        return JSONResponse(
            {"client_id": client.client_id, "permissions": sorted(client.permissions)}, 201
        )

    async def not_found(self, request: Request) -> Response:
        correlation = str(uuid.uuid4())
        body = error_body(404, "not.found", f"No resource at {request.url.path}", correlation)
        self.stats.record(f"{request.method} (unknown)", 404, "-")
        return JSONResponse(body, status_code=404, headers={"ININ-Correlation-Id": correlation})


async def _control_json(request: Request) -> Json:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def _hang(request: Request, limit_s: float = 3600.0) -> Response:
    """Answer nothing until the client gives up (disconnects), at most `limit_s`."""
    deadline = asyncio.get_running_loop().time() + limit_s
    while asyncio.get_running_loop().time() < deadline:
        if await request.is_disconnected():
            break
        await asyncio.sleep(0.05)
    return Response(status_code=504)


def _oversized(request: Request, path: Path, media_type: str) -> Response:
    """The recording followed by zeros, announced and sent up to `OVERSIZED_BYTES`, or until
    the client hangs up (the server would otherwise go on sending into the void)."""

    async def body() -> AsyncIterator[bytes]:
        data = await anyio.to_thread.run_sync(path.read_bytes)
        yield data
        zeros = bytes(1024 * 1024)
        for _ in range((OVERSIZED_BYTES - len(data)) // len(zeros)):
            if await request.is_disconnected():
                return
            yield zeros

    length = str(OVERSIZED_BYTES - (OVERSIZED_BYTES - path.stat().st_size) % (1024 * 1024))
    return StreamingResponse(body(), media_type=media_type, headers={"content-length": length})


def _int_param(request: Request, name: str, default: int, *, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid.value", f"{name} must be an integer") from None
    if not 1 <= value <= maximum:
        raise ApiError(400, "invalid.value", f"{name} must be between 1 and {maximum}")
    return value


def _optional_date(body: Mapping[str, Any], name: str) -> dt.datetime | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        return parse_iso(str(value))
    except ValueError:
        raise ApiError(400, "invalid.date", f"{name} must be an ISO-8601 date-time") from None


def _encode_cursor(job_id: str, offset: int) -> str:
    return uuid.uuid5(uuid.UUID(job_id), str(offset)).hex + f"{offset:x}"


def _decode_cursor(cursor: str | None, job_id: str) -> int:
    if not cursor:
        return 0
    try:
        offset = int(cursor[32:], 16)
    except ValueError:
        offset = -1
    if offset < 0 or _encode_cursor(job_id, offset) != cursor:
        raise ApiError(400, "invalid.value", "The cursor is not valid for this job")
    return offset


def _display(number: str) -> str:
    digits = number.lstrip("+")
    return f"+{digits[0]} ({digits[1:4]}) {digits[4:7]}-{digits[7:]}"


def _read_prefix(path: Path, size: int) -> bytes:
    with path.open("rb") as file:
        return file.read(size)


def _s3_error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml")


def create_app(config: EmulatorConfig, clock: Clock | None = None) -> Starlette:
    """The emulator as an ASGI application."""
    emulator = Emulator(config, clock)

    def api(path: str, method: str, handler: Handler, *permissions: str) -> Route:
        endpoint = f"{method} {path}"

        async def run(request: Request) -> Response:
            return await emulator.api(request, endpoint, permissions, handler)

        return Route(path, run, methods=[method])

    details = "/api/v2/analytics/conversations/details"
    conversation = "/api/v2/conversations/{conversationId}"
    routes = [
        Route("/oauth/token", emulator.token, methods=["POST"]),
        api(f"{details}/query", "POST", emulator.details_query, VIEW_ANALYTICS),
        api(f"{details}/jobs", "POST", emulator.submit_job, VIEW_ANALYTICS),
        api(f"{details}/jobs/availability", "GET", emulator.availability, VIEW_ANALYTICS),
        api(f"{details}/jobs/{{jobId}}", "GET", emulator.job_status, VIEW_ANALYTICS),
        api(f"{details}/jobs/{{jobId}}", "DELETE", emulator.delete_job, VIEW_ANALYTICS),
        api(f"{details}/jobs/{{jobId}}/results", "GET", emulator.job_results, VIEW_ANALYTICS),
        api(
            f"{conversation}/recordingmetadata", "GET", emulator.recording_metadata, VIEW_RECORDINGS
        ),
        api(
            f"{conversation}/recordingmetadata/{{recordingId}}",
            "GET",
            emulator.one_recording_metadata,
            VIEW_RECORDINGS,
        ),
        api(f"{conversation}/recordings", "GET", emulator.list_recordings, VIEW_RECORDINGS),
        api(
            f"{conversation}/recordings/{{recordingId}}",
            "GET",
            emulator.get_recording,
            VIEW_RECORDINGS,
        ),
        api(
            f"{conversation}/recordings/{{recordingId}}",
            "PUT",
            emulator.put_recording,
            VIEW_RECORDINGS,
        ),
        api("/api/v2/recording/batchrequests", "POST", emulator.submit_batch, VIEW_RECORDINGS),
        api("/api/v2/recording/batchrequests/{jobId}", "GET", emulator.batch_status),
        api("/api/v2/recordings/deletionprotection", "POST", emulator.protected_conversations),
        api("/api/v2/recordings/deletionprotection", "PUT", emulator.protect_conversations),
        api("/api/v2/users", "GET", emulator.list_users),
        api("/api/v2/users/{userId}", "GET", emulator.get_user),
        Route("/media/{conversation_id}/{file}", emulator.media, methods=["GET", "HEAD"]),
        Route("/_emulator/ground-truth", emulator.ground_truth, methods=["GET"]),
        Route("/_emulator/stats", emulator.stats_endpoint, methods=["GET", "DELETE"]),
        Route("/_emulator/clock", emulator.clock_endpoint, methods=["GET", "POST"]),
        Route("/_emulator/faults", emulator.faults_endpoint, methods=["GET", "POST"]),
        Route("/_emulator/calls", emulator.calls_endpoint, methods=["POST"]),
        Route("/_emulator/clients", emulator.clients_endpoint, methods=["POST"]),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(DateHeader, clock=emulator.clock)])

    async def not_found(request: Request, exc: Exception) -> Response:
        del exc
        return await emulator.not_found(request)

    app.add_exception_handler(404, not_found)
    app.state.emulator = emulator
    return app
