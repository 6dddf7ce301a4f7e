"""The one error tree of callarchive, by what the caller does about an error.

    CallarchiveError                 root; `exit_code` is what the CLI exits with
    ├── RetryableError               transient (network, 429, 5xx): may succeed later
    ├── SkipError                    this item cannot be done now: it goes to the retry buffer
    └── FatalError                   stop the run: nothing more can succeed until someone acts
        ├── ConfigurationError       a setting is wrong; names the field and what is expected
        └── PermissionDeniedError    the Genesys OAuth client lacks a permission

Foreign exceptions (httpx, SQLAlchemy, obstore, ...) are translated into these at the boundary of
the package that uses them. Messages say what happened and how to fix it, never a secret.
"""

from __future__ import annotations


class CallarchiveError(Exception):
    """Root of every error callarchive raises on purpose."""

    exit_code = 1


class RetryableError(CallarchiveError):
    """A transient failure: retrying the same action later may succeed."""

    exit_code = 75  # EX_TEMPFAIL


class SkipError(CallarchiveError):
    """This item cannot be processed now; keep it (retry buffer) and carry on with the others."""

    exit_code = 1


class FatalError(CallarchiveError):
    """Nothing more can succeed until an operator acts."""

    exit_code = 1


class ConfigurationError(FatalError):
    """A configuration value is wrong. `field` names it (the seed's item, in snake_case)."""

    exit_code = 2

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message


class PermissionDeniedError(FatalError):
    """The Genesys OAuth client lacks a permission the action needs."""

    exit_code = 77  # EX_NOPERM


__all__ = [
    "CallarchiveError",
    "ConfigurationError",
    "FatalError",
    "PermissionDeniedError",
    "RetryableError",
    "SkipError",
]
