"""A faithful Genesys Cloud emulator for callarchive's tests, demo and benchmarks.

It follows the public API reference (`shared/genesys/api-reference.md`) and never imports
`callarchive`, so it cannot agree with the client's mistakes. One port serves the login host
(`/oauth/token`), the API host (`/api/v2/...`), a media host (`/media/...`, signed expiring
URLs) and a control API (`/_emulator/...`) for ground truth, statistics, the clock, faults and
live traffic.
"""

from genesys_emulator.app import create_app
from genesys_emulator.clock import Clock
from genesys_emulator.config import ALL_PERMISSIONS, EmulatorConfig

__all__ = ["ALL_PERMISSIONS", "Clock", "EmulatorConfig", "create_app"]
