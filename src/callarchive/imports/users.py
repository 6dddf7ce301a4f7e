"""Genesys users, cached for the import source's Cache Lifetime (bulk look-ups by id)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from callarchive.clock import Clock
from callarchive.genesys import GenesysClient, User


class UserDirectory:
    """Genesys users by id; a user is fetched again once its entry is older than `lifetime`."""

    def __init__(self, client: GenesysClient, clock: Clock, lifetime: dt.timedelta) -> None:
        self._client = client
        self._clock = clock
        self._lifetime = lifetime
        self._users: dict[str, tuple[dt.datetime, User | None]] = {}
        self.lookups = 0

    async def load(self, user_ids: Iterable[str]) -> None:
        """Make sure every id is cached and fresh, fetching the missing ones in bulk."""
        now = self._clock.now()
        stale = sorted(
            {
                user_id
                for user_id in user_ids
                if user_id not in self._users or now - self._users[user_id][0] >= self._lifetime
            }
        )
        if not stale:
            return
        self.lookups += 1
        found = {user.id: user for user in await self._client.users(stale)}
        for user_id in stale:
            self._users[user_id] = (now, found.get(user_id))

    def get(self, user_id: str | None) -> User | None:
        if user_id is None:
            return None
        entry = self._users.get(user_id)
        return entry[1] if entry else None
