"""A bandwidth cap on the media host: every download shares one link of a given speed.

`Link.reserve` is pure arithmetic on monotonic seconds: each chunk takes its transfer time on the
link after the chunks before it, so concurrent downloads share the bandwidth instead of each
getting all of it. `ThrottledFileResponse` waits for each chunk's slot before sending it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.responses import FileResponse
from starlette.types import Message, Receive, Scope, Send


class Link:
    """A link of `kbps` kilobits a second shared by all media downloads."""

    def __init__(self, kbps: int, monotonic: Callable[[], float] = time.monotonic) -> None:
        if kbps <= 0:
            raise ValueError("a link needs a positive bandwidth")
        self.bytes_per_second = kbps * 1000 / 8
        self._monotonic = monotonic
        self._free_at = 0.0
        self._lock = threading.Lock()

    def reserve(self, size: int, now: float) -> float:
        """Book `size` bytes on the link at `now`; the seconds to wait until they have passed."""
        with self._lock:
            begin = max(now, self._free_at)
            self._free_at = begin + size / self.bytes_per_second
            return self._free_at - now

    async def send(self, size: int) -> None:
        """Wait until `size` bytes have passed through the link."""
        wait = self.reserve(size, self._monotonic())
        if wait > 0:
            await asyncio.sleep(wait)


class ThrottledFileResponse(FileResponse):
    """A file response whose body chunks are held back until the link has carried them
    (HTTP Range and headers as FileResponse makes them)."""

    def __init__(self, *args: Any, link: Link, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.link = link

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def paced(message: Message) -> None:
            if message["type"] == "http.response.body":
                await self.link.send(len(message.get("body", b"")))
            await send(message)

        await super().__call__(scope, receive, paced)


__all__ = ["Link", "ThrottledFileResponse"]
