"""callarchive.imports: one import run of a policy and an import source (DESIGN.md section 2).

The cursor file, the import window, the retry buffer and the run itself.
"""

from callarchive.imports.connection import connect_source, connection_settings
from callarchive.imports.cursor import Cursor, CursorError
from callarchive.imports.window import Window, lag, needs_async_job, next_window

__all__ = [
    "Cursor",
    "CursorError",
    "Window",
    "connect_source",
    "connection_settings",
    "lag",
    "needs_async_job",
    "next_window",
]
