"""Recordings: file states, transcoding, retention dates, batch downloads and media URLs.

A recording's state is derived from the clock and a little mutable state kept here: when a
transcode into a format was first requested, the retention dates set through PUT, restorations
of archived recordings, the batch download jobs (readable only by the client that submitted
them) and the conversations protected from deletion (`protection`). Media URLs are signed and
expire after `url_ttl_s`, like the pre-signed URLs Genesys hands out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from genesys_emulator.audio import FORMATS
from genesys_emulator.clock import to_iso
from genesys_emulator.config import EmulatorConfig
from genesys_emulator.org import Conversation, FileState, Org, RecordingPlan
from genesys_emulator.protection import DeletionProtection

Json = dict[str, Any]
FORMAT_IDS = (*FORMATS, "NONE")
MAX_BATCH_ITEMS = 100


@dataclass(kw_only=True, slots=True)
class _Retention:
    delete_date: dt.datetime | None = None
    archive_date: dt.datetime | None = None
    restore_requested: dt.datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class BatchItem:
    conversation_id: str
    recording_id: str | None
    error: str | None


@dataclass(kw_only=True, slots=True)
class BatchJob:
    id: str
    client_id: str
    submitted: dt.datetime
    complete_at: dt.datetime
    items: tuple[BatchItem, ...]
    fault_truncate: bool = field(default=False)


class Recordings:
    """The recordings side of the org, with the state the API can change."""

    def __init__(self, org: Org, config: EmulatorConfig, url_key: bytes) -> None:
        self.org = org
        self.config = config
        self._url_key = url_key
        self._lock = threading.Lock()
        self._retention: dict[str, _Retention] = {}
        self._transcodes: dict[tuple[str, str], dt.datetime] = {}
        self._batches: dict[str, BatchJob] = {}
        self.stuck_transcode_ratio = 0.0
        self.protection = DeletionProtection()

    # -- state -----------------------------------------------------------------------------

    def file_state(self, plan: RecordingPlan, now: dt.datetime) -> FileState:
        retention = self._retention_of(plan.id)
        if (
            retention.delete_date is not None
            and retention.delete_date <= now
            and not self.protection.is_protected(plan.conversation_id)
        ):
            return FileState.DELETED
        if plan.end + dt.timedelta(seconds=self.config.media_delay_s) > now:
            return FileState.UPLOADING
        archive_date = self.archive_date(plan)
        unarchived = archive_date is None or archive_date > now
        if retention.restore_requested is None:
            return FileState.AVAILABLE if unarchived else FileState.ARCHIVED
        # A restore keeps the recording restored until the new archiveDate, then archives it.
        restored_at = retention.restore_requested + dt.timedelta(seconds=self.config.restore_s)
        if restored_at > now:
            return FileState.RESTORING
        return FileState.RESTORED if unarchived else FileState.ARCHIVED

    def archive_date(self, plan: RecordingPlan) -> dt.datetime | None:
        retention = self._retention_of(plan.id)
        if retention.archive_date is not None:
            return retention.archive_date
        if self.config.archive_after_days <= 0:
            return None
        return plan.end + dt.timedelta(days=self.config.archive_after_days)

    def delete_date(self, plan: RecordingPlan) -> dt.datetime | None:
        return self._retention_of(plan.id).delete_date

    def playable(self, plan: RecordingPlan, now: dt.datetime) -> bool:
        return self.file_state(plan, now) in (FileState.AVAILABLE, FileState.RESTORED)

    def _retention_of(self, recording_id: str) -> _Retention:
        with self._lock:
            return self._retention.get(recording_id) or _Retention()

    def update_retention(
        self,
        plan: RecordingPlan,
        now: dt.datetime,
        *,
        delete_date: dt.datetime | None,
        archive_date: dt.datetime | None,
    ) -> None:
        """Apply a retention PUT. A new archiveDate on an archived recording restores it."""
        restoring = archive_date is not None and self.file_state(plan, now) == FileState.ARCHIVED
        with self._lock:
            retention = self._retention.setdefault(plan.id, _Retention())
            if delete_date is not None:
                retention.delete_date = delete_date
            if archive_date is not None:
                retention.archive_date = archive_date
            if restoring:
                retention.restore_requested = now

    # -- transcoding -----------------------------------------------------------------------

    def transcode_ready_at(
        self, plan: RecordingPlan, format_id: str, now: dt.datetime
    ) -> dt.datetime:
        """When media in `format_id` is ready; the first request starts the transcode."""
        with self._lock:
            started = self._transcodes.setdefault((plan.id, format_id), now)
        if self._stuck(plan):
            return dt.datetime.max.replace(tzinfo=dt.UTC)
        minutes = plan.duration_ms / 60_000
        return started + dt.timedelta(milliseconds=self.config.transcode_ms * minutes)

    def estimated_transcode_ms(self, plan: RecordingPlan) -> int:
        return int(self.config.transcode_ms * plan.duration_ms / 60_000)

    def _stuck(self, plan: RecordingPlan) -> bool:
        if self.stuck_transcode_ratio <= 0:
            return False
        digest = hashlib.sha256(f"stuck:{plan.id}".encode()).digest()
        return int.from_bytes(digest[:4], "big") / 2**32 < self.stuck_transcode_ratio

    # -- JSON ------------------------------------------------------------------------------

    def metadata(self, plan: RecordingPlan, now: dt.datetime, api_base: str) -> Json:
        state = self.file_state(plan, now)
        body: Json = {
            "id": plan.id,
            "name": f"{plan.conversation_id}_{plan.id}",
            "conversationId": plan.conversation_id,
            "media": "audio",
            "mediaSubtype": plan.media_subtype,
            "fileState": state.value,
            "sessionId": plan.session_id,
            "maxAllowedRestorationsForOrg": 10000,
            "remainingRestorationsAllowedForOrg": 10000,
            "selfUri": f"/api/v2/conversations/{plan.conversation_id}/recordingmetadata/{plan.id}",
        }
        if state is not FileState.UPLOADING:
            body["startTime"] = to_iso(plan.start)
            body["endTime"] = to_iso(plan.end)
        archive_date = self.archive_date(plan)
        if archive_date is not None:
            body["archiveDate"] = to_iso(archive_date)
            body["archiveMedium"] = "CLOUDARCHIVE"
        delete_date = self.delete_date(plan)
        if delete_date is not None:
            body["deleteDate"] = to_iso(delete_date)
        if state is FileState.RESTORED and archive_date is not None:
            body["restoreExpirationTime"] = to_iso(archive_date)
        del api_base
        return body

    def recording(
        self,
        plan: RecordingPlan,
        now: dt.datetime,
        *,
        format_id: str,
        media_base: str,
        ready: bool,
    ) -> Json:
        """The Recording model; `mediaUris` only when the media is playable and transcoded."""
        body = self.metadata(plan, now, media_base)
        body.pop("maxAllowedRestorationsForOrg")
        body.pop("remainingRestorationsAllowedForOrg")
        body["selfUri"] = f"/api/v2/conversations/{plan.conversation_id}/recordings/{plan.id}"
        body["recordingFileRole"] = "CUSTOMER_EXPERIENCE"
        body["creationTime"] = to_iso(plan.start)
        if format_id == "NONE" or not self.playable(plan, now):
            return body
        body["estimatedTranscodeTimeMs"] = self.estimated_transcode_ms(plan)
        if not ready:
            body["outputSizeInBytes"] = 0
            return body
        body["actualTranscodeTimeMs"] = self.estimated_transcode_ms(plan)
        body["outputDurationMs"] = plan.duration_ms
        body["mediaUris"] = {"S": {"mediaUri": self.media_url(plan, format_id, now, media_base)}}
        return body

    # -- media URLs ------------------------------------------------------------------------

    def media_url(self, plan: RecordingPlan, format_id: str, now: dt.datetime, base: str) -> str:
        expires = int(now.timestamp()) + self.config.url_ttl_s
        signature = self._sign(plan.conversation_id, plan.id, format_id, expires)
        extension = FORMATS[format_id].extension
        return (
            f"{base}/media/{plan.conversation_id}/{plan.id}.{extension}"
            f"?format={format_id}&Expires={expires}&Signature={signature}"
        )

    def check_signature(
        self, conversation_id: str, recording_id: str, format_id: str, expires: int, signature: str
    ) -> bool:
        expected = self._sign(conversation_id, recording_id, format_id, expires)
        return hmac.compare_digest(expected, signature)

    def _sign(self, conversation_id: str, recording_id: str, format_id: str, expires: int) -> str:
        message = f"{conversation_id}/{recording_id}/{format_id}/{expires}".encode()
        return hmac.new(self._url_key, message, hashlib.sha256).hexdigest()

    # -- batch downloads -------------------------------------------------------------------

    def submit_batch(
        self,
        requests: Sequence[Mapping[str, Any]],
        *,
        client_id: str,
        sensitive_allowed: bool,
        now: dt.datetime,
    ) -> BatchJob:
        items: list[BatchItem] = []
        for request in requests:
            items.extend(self._batch_items(request, sensitive_allowed, now))
        job = BatchJob(
            id=str(uuid.uuid4()),
            client_id=client_id,
            submitted=now,
            complete_at=now + dt.timedelta(seconds=self.config.batch_delay_s),
            items=tuple(items),
        )
        with self._lock:
            self._batches[job.id] = job
        return job

    def _batch_items(
        self, request: Mapping[str, Any], sensitive_allowed: bool, now: dt.datetime
    ) -> list[BatchItem]:
        conversation_id = str(request.get("conversationId", ""))
        recording_id = request.get("recordingId")
        conversation = self.org.conversation(conversation_id)
        if conversation is None or conversation.start > now:
            return [BatchItem(conversation_id=conversation_id, recording_id=recording_id,
                              error="Conversation not found")]  # fmt: skip
        plans = [p for p in conversation.recordings if recording_id in (None, p.id)]
        if recording_id is not None and not plans:
            return [BatchItem(conversation_id=conversation_id, recording_id=recording_id,
                              error="Recording not found")]  # fmt: skip
        # Recordings with sensitive data are silently left out without viewSensitiveData.
        plans = [p for p in plans if sensitive_allowed or not p.sensitive]
        return [
            BatchItem(
                conversation_id=conversation_id, recording_id=p.id, error=self._batch_error(p, now)
            )
            for p in plans
        ]

    def _batch_error(self, plan: RecordingPlan, now: dt.datetime) -> str | None:
        state = self.file_state(plan, now)
        return {
            FileState.UPLOADING: "Recording is not available yet, it is still being uploaded",
            FileState.ARCHIVED: "Recording is archived and must be restored before download",
            FileState.RESTORING: "Recording is being restored from the archive",
            FileState.DELETED: "Recording has been deleted",
        }.get(state)

    def batch(self, job_id: str) -> BatchJob | None:
        with self._lock:
            return self._batches.get(job_id)

    def batch_status(self, job: BatchJob, now: dt.datetime, media_base: str) -> Json:
        total = len(job.items)
        span = (job.complete_at - job.submitted).total_seconds()
        done = (
            total
            if now >= job.complete_at or span <= 0
            else int(total * (now - job.submitted).total_seconds() / span)
        )
        results = [self._batch_result(item, now, media_base) for item in job.items[:done]]
        return {
            "id": job.id,
            "jobId": job.id,
            "expectedResultCount": total,
            "resultCount": done,
            "errorCount": sum(1 for r in results if "errorMsg" in r),
            "status": "Completed" if done == total else "InProgress",
            "results": results,
            "selfUri": f"/api/v2/recording/batchrequests/{job.id}",
        }

    def _batch_result(self, item: BatchItem, now: dt.datetime, media_base: str) -> Json:
        result: Json = {"conversationId": item.conversation_id}
        if item.recording_id is not None:
            result["recordingId"] = item.recording_id
        plan = self._plan(item.conversation_id, item.recording_id)
        error = item.error or (None if plan is None else self._batch_error(plan, now))
        if error is not None or plan is None:
            result["errorMsg"] = error or "Recording not found"
            return result
        codec = self.config.trunk_codec
        result["resultUrl"] = self.media_url(plan, codec, now, media_base)
        result["contentType"] = FORMATS[codec].content_type
        return result

    def _plan(self, conversation_id: str, recording_id: str | None) -> RecordingPlan | None:
        conversation = self.org.conversation(conversation_id)
        if conversation is None:
            return None
        return find_plan(conversation, recording_id)


def find_plan(conversation: Conversation, recording_id: str | None) -> RecordingPlan | None:
    for plan in conversation.recordings:
        if plan.id == recording_id:
            return plan
    return None
