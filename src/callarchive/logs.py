"""Structured logs (structlog) that never carry a secret.

`redact` is a processor that runs on every event before rendering: values under secret-looking
keys (authorization, client_secret, password, token, ...) are replaced, bearer and basic
credentials inside strings are masked, and the query strings of URLs (signed media URLs carry
their signature there) are dropped.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, TextIO

import structlog

REDACTED = "[redacted]"
_SECRET_KEYS = re.compile(
    r"(authorization|secret|password|passwd|token|api_key|apikey|cookie|signature|credential)",
    re.IGNORECASE,
)
_CREDENTIALS = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_URL_QUERY = re.compile(r"(https?://[^\s?#\"']+)\?[^\s#\"']*", re.IGNORECASE)


def scrub(value: Any) -> Any:
    """`value` with credentials and URL query strings masked (recursing into containers)."""
    if isinstance(value, str):
        return _URL_QUERY.sub(r"\1?" + REDACTED, _CREDENTIALS.sub(r"\1 " + REDACTED, value))
    if isinstance(value, Mapping):
        return {k: REDACTED if _SECRET_KEYS.search(str(k)) else scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub(v) for v in value)
    if isinstance(value, BaseException):
        return scrub(str(value))
    return value


def redact(
    logger: object, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secrets in every field of the event."""
    del logger, method_name
    for key, value in list(event_dict.items()):
        event_dict[key] = REDACTED if _SECRET_KEYS.search(key) else scrub(value)
    return event_dict


class _CurrentStderr:
    """Whatever `sys.stderr` is when a line is written (it may be replaced after configuring)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


Processor = Callable[[Any, str, MutableMapping[str, Any]], MutableMapping[str, Any]]


def configure(
    *,
    level: int = logging.INFO,
    stream: TextIO | None = None,
    json: bool = True,
    observer: Processor | None = None,
) -> None:
    """Route structlog events, redacted, as JSON lines (or console lines) to `stream`.

    `observer` (metrics) sees every event, debug ones included, before `level` filters them.
    """
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    observing: list[Any] = []
    if observer is not None:
        observing = [observer, _at_least(level)]
        level = logging.DEBUG
    structlog.configure(
        processors=[
            *observing,
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(stream or _CurrentStderr()),  # type: ignore[arg-type]  # writes and flushes like a TextIO
        cache_logger_on_first_use=False,
    )


_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "exception": logging.ERROR,
    "critical": logging.CRITICAL,
    "fatal": logging.CRITICAL,
}


def _at_least(level: int) -> Processor:
    """A processor that drops events below `level` (after an observer has seen them)."""

    def keep(
        logger: object, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        del logger
        if _LEVELS.get(method_name, logging.INFO) < level:
            raise structlog.DropEvent
        return event_dict

    return keep
