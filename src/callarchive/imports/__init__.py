"""callarchive.imports: one import run of a policy and an import source (DESIGN.md section 2).

The cursor file, the import window, the retry buffer, the media strategies, the metadata and
the run itself (`ImportRun`), with its end-of-batch report.
"""

from callarchive.imports.connection import connect_source, connection_settings
from callarchive.imports.cursor import Cursor, CursorError
from callarchive.imports.listing import WindowPlan
from callarchive.imports.probe import ProbeResult, SourceProbe, genesys_probe
from callarchive.imports.report import Outcome, notification_text
from callarchive.imports.retry_buffer import Cdr, CdrError, Entry, RetryBuffer, RetryReason
from callarchive.imports.run import ImportRun, RunResult, RunStatus
from callarchive.imports.window import Window, lag, needs_async_job, next_window

__all__ = [
    "Cdr",
    "CdrError",
    "Cursor",
    "CursorError",
    "Entry",
    "ImportRun",
    "Outcome",
    "ProbeResult",
    "RetryBuffer",
    "RetryReason",
    "RunResult",
    "RunStatus",
    "SourceProbe",
    "Window",
    "WindowPlan",
    "connect_source",
    "connection_settings",
    "genesys_probe",
    "lag",
    "needs_async_job",
    "next_window",
    "notification_text",
]
