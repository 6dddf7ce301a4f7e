"""The archive: the database of configuration, conversations, alerts, reports and audit log,
the media object store and the work store of the seed's folders.

    Archive           the database (SQLite with WAL by default, PostgreSQL for scale)
    ObjectStore       media objects: put-if-absent streaming writes, ranged reads, verification
    EncryptedObjectStore  the same, each object sealed with AES-GCM (MediaKeyring: master keys);
                      `encrypt_in_place` encrypts an object stored before encryption was on
    WorkStore         tokens, cursors, retry buffer in the seed's folder layout
    Seals             tamper evidence: `archive.seals.verify`, `write_export`, `verify_export`,
                      `archive.late_seals` (conversations archived before seals existed)

Errors: `DatabaseUnavailableError`, `StoreUnavailableError` and `PairLockedError` (retryable),
`ObjectNotFoundError` and `CorruptObjectError` (fatal), `ChecksumMismatchError` and
`ObjectLockedError` (skip: retry later); configuration problems are `ConfigurationError`.
"""

from callarchive.analysis import RecordingAnalysis, Waveform
from callarchive.archive._obstore import (
    ObjectChangedError,
    ObjectNotFoundError,
    S3Options,
    StoreUnavailableError,
)
from callarchive.archive.accounts import Account, ApiKey, Scope, Throttle, WebSession
from callarchive.archive.alerts import AlertFilter, AlertRecord
from callarchive.archive.audit import AuditEntry, AuditFilter
from callarchive.archive.conversations import (
    Conversation,
    ConversationQuery,
    ConversationSort,
    Direction,
    Recording,
    SavedConversation,
    UserDirection,
    duration_seconds,
    export_record,
)
from callarchive.archive.database import DatabaseUnavailableError, current_revision, head_revision
from callarchive.archive.encryption import (
    CorruptObjectError,
    EncryptedObjectStore,
    MediaKeyring,
    finish_media_key_rotation,
    load_media_keyring,
    rotate_media_key_file,
)
from callarchive.archive.evidence import verify_export, write_export
from callarchive.archive.holds import FourEyesError, HoldState, LegalHold, ReleaseRequest
from callarchive.archive.in_place_encryption import InPlaceOutcome, encrypt_in_place
from callarchive.archive.late_seals import LateSealing, Unsealed
from callarchive.archive.locks import PairLockedError
from callarchive.archive.object_lock import ObjectLockedError
from callarchive.archive.objects import (
    ChecksumMismatchError,
    MediaStream,
    MediaUpload,
    ObjectStore,
    ObjectVersion,
    StoredObject,
    media_key,
)
from callarchive.archive.reconciliations import DayReconciliation, Unaccounted
from callarchive.archive.reports import BatchReport, BatchReportEntry
from callarchive.archive.repository import Archive
from callarchive.archive.retention import Candidate, RetentionRun, StoredMedia, retention_expiry
from callarchive.archive.runs import ScheduledRun
from callarchive.archive.seals import (
    DEFAULT_BATCH,
    ObjectStoreMedia,
    Problem,
    ProblemKind,
    SealOrigin,
    Verification,
    VerifyProgress,
    VerifyStep,
)
from callarchive.archive.work import ROOT as WORK_ROOT
from callarchive.archive.work import PairFolders, WorkStore, pair_folders

__all__ = [
    "DEFAULT_BATCH",
    "WORK_ROOT",
    "Account",
    "AlertFilter",
    "AlertRecord",
    "ApiKey",
    "Archive",
    "AuditEntry",
    "AuditFilter",
    "BatchReport",
    "BatchReportEntry",
    "Candidate",
    "ChecksumMismatchError",
    "Conversation",
    "ConversationQuery",
    "ConversationSort",
    "CorruptObjectError",
    "DatabaseUnavailableError",
    "DayReconciliation",
    "Direction",
    "EncryptedObjectStore",
    "FourEyesError",
    "HoldState",
    "InPlaceOutcome",
    "LateSealing",
    "LegalHold",
    "MediaKeyring",
    "MediaStream",
    "MediaUpload",
    "ObjectChangedError",
    "ObjectLockedError",
    "ObjectNotFoundError",
    "ObjectStore",
    "ObjectStoreMedia",
    "ObjectVersion",
    "PairFolders",
    "PairLockedError",
    "Problem",
    "ProblemKind",
    "Recording",
    "RecordingAnalysis",
    "ReleaseRequest",
    "RetentionRun",
    "S3Options",
    "SavedConversation",
    "ScheduledRun",
    "Scope",
    "SealOrigin",
    "StoreUnavailableError",
    "StoredMedia",
    "StoredObject",
    "Throttle",
    "Unaccounted",
    "Unsealed",
    "UserDirection",
    "Verification",
    "VerifyProgress",
    "VerifyStep",
    "Waveform",
    "WebSession",
    "WorkStore",
    "current_revision",
    "duration_seconds",
    "encrypt_in_place",
    "export_record",
    "finish_media_key_rotation",
    "head_revision",
    "load_media_keyring",
    "media_key",
    "pair_folders",
    "retention_expiry",
    "rotate_media_key_file",
    "verify_export",
    "write_export",
]
