"""callarchive.genesys: the only code that knows Genesys Cloud URLs, JSON shapes and status codes.

`connect(settings, clock=..., vault=...)` builds a `GenesysClient`: OAuth client credentials with
an encrypted token cache, a forward proxy and TLS when configured, a request budget under the
rate limit, retries per Genesys's guidance, and streaming media downloads that never carry the
bearer token. Errors are sorted into callarchive's error tree (see `errors`).
"""

from callarchive.genesys.auth import AccessToken, EncryptedTokenVault, TokenProvider, TokenVault
from callarchive.genesys.client import (
    FORMAT_IDS,
    Download,
    GenesysClient,
    MediaSink,
    RecordingsReply,
    connect,
)
from callarchive.genesys.connection import ConnectionSettings, ProxySettings, TlsSettings
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
    BatchResult,
    BatchStatus,
    Conversation,
    JobStatus,
    Participant,
    Recording,
    RecordingMetadata,
    Segment,
    Session,
    User,
)
from callarchive.genesys.regions import REGIONS, Region, check_urls, region_of
from callarchive.genesys.retry import Action, Decision, RequestBudget, RetryPolicy, decide

__all__ = [
    "FORMAT_IDS",
    "REGIONS",
    "AccessToken",
    "Action",
    "AuthenticationError",
    "BatchResult",
    "BatchStatus",
    "ConnectionSettings",
    "Conversation",
    "DailyLimitError",
    "Decision",
    "Download",
    "EncryptedTokenVault",
    "GenesysClient",
    "GenesysError",
    "GenesysPermissionError",
    "GenesysUnavailableError",
    "JobStatus",
    "MediaNotReadyError",
    "MediaSink",
    "MediaUrlExpiredError",
    "NotFoundError",
    "Participant",
    "ProxyError",
    "ProxySettings",
    "Recording",
    "RecordingMetadata",
    "RecordingsReply",
    "Region",
    "RequestBudget",
    "RequestRejectedError",
    "RetryPolicy",
    "Segment",
    "ServerError",
    "Session",
    "TlsError",
    "TlsSettings",
    "TokenProvider",
    "TokenVault",
    "TruncatedMediaError",
    "UnexpectedMediaError",
    "User",
    "check_urls",
    "connect",
    "decide",
    "region_of",
]
