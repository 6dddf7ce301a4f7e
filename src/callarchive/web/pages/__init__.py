"""The pages of the web UI, one module per menu of the seed's user interface."""

from fastapi import APIRouter

from callarchive.web.pages import conversations, policies, session, sources, users


def routers() -> list[APIRouter]:
    """Every page router."""
    return [session.router, conversations.router, sources.router, policies.router, users.router]


__all__ = ["routers"]
