"""The monitoring endpoints of a node: `/metrics` (Prometheus), `/health` and `/ready`.

`/health` answers 200 while the process and its loops are alive (a liveness probe); `/ready`
answers 200 only when the node can do its work: the database answers and its schema is the one
this version needs (a readiness probe). Both answer JSON with the problems found.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callarchive.monitoring.metrics import CONTENT_TYPE, Metrics

Check = Callable[[], Awaitable[Sequence[str]]]
"""A probe: the problems it found (none when all is well)."""


def routes(metrics: Metrics, *, health: Check, ready: Check) -> list[Route]:
    """The three routes, for a Starlette app."""

    async def scrape(request: Request) -> Response:
        del request
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    def probe(check: Check) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            del request
            problems = list(await check())
            status = "ok" if not problems else "failing"
            return JSONResponse(
                {"status": status, "problems": problems}, status_code=503 if problems else 200
            )

        return answer

    return [
        Route("/metrics", scrape, methods=["GET"]),
        Route("/health", probe(health), methods=["GET"]),
        Route("/ready", probe(ready), methods=["GET"]),
    ]


__all__ = ["Check", "routes"]
