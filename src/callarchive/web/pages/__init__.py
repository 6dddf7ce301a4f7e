"""The pages of the web UI, one module per menu of the seed's user interface."""

from fastapi import APIRouter

from callarchive.web.pages import (
    alerts,
    api_keys,
    audit,
    conversations,
    holds,
    policies,
    session,
    sources,
    status,
    users,
)


def routers() -> list[APIRouter]:
    """Every page router."""
    return [
        session.router,
        conversations.router,
        sources.router,
        policies.router,
        users.router,
        alerts.router,
        status.router,
        audit.router,
        api_keys.router,
        holds.router,
    ]


__all__ = ["routers"]
