"""The REST API under `/api/v1`: one router per menu of the web UI, same access rules.

Authenticate with a session cookie (state-changing calls then need `X-CSRF-Token`) or an API
key (`Authorization: Bearer ca_…` or `X-API-Key`), which acts as its user.
"""

from fastapi import APIRouter

from callarchive.web.api import (
    alerts,
    api_keys,
    audit,
    conversations,
    holds,
    policies,
    reconciliation,
    sources,
    status,
    users,
)


def routers() -> list[APIRouter]:
    """Every API router, mounted under `/api/v1`."""
    return [
        conversations.router,
        sources.router,
        policies.router,
        users.router,
        alerts.router,
        status.router,
        audit.router,
        api_keys.router,
        reconciliation.router,
        holds.router,
    ]


__all__ = ["routers"]
