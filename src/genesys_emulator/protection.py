"""Deletion protection: the conversations whose recordings Genesys keeps from deletion.

The reference (section 5.3): `PUT /api/v2/recordings/deletionprotection?protect=true|false`
with `{"conversationIds": [...]}` (at most 100) applies protection (permission
`recording:deletionProtection:apply`) or revokes it (`...:revoke`) and answers 204;
`POST /api/v2/recordings/deletionprotection` with the same body answers the protected ones among
them as `AddressableEntityRef`s (`id`, `selfUri`) and needs no permission. What Genesys does
with a `deleteDate` on a protected recording is not documented; the emulator keeps the date but
does not delete the recording while it is protected.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

APPLY = "recording:deletionProtection:apply"
REVOKE = "recording:deletionProtection:revoke"
MAX_CONVERSATIONS = 100


class DeletionProtection:
    """The set of protected conversation ids, safe across the server's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._protected: set[str] = set()

    def apply(self, conversation_ids: Iterable[str]) -> None:
        with self._lock:
            self._protected.update(conversation_ids)

    def revoke(self, conversation_ids: Iterable[str]) -> None:
        with self._lock:
            self._protected.difference_update(conversation_ids)

    def is_protected(self, conversation_id: str) -> bool:
        with self._lock:
            return conversation_id in self._protected

    def protected_among(self, conversation_ids: Iterable[str]) -> list[str]:
        """The protected ones of `conversation_ids`, in the order given, each once."""
        with self._lock:
            return [c for c in dict.fromkeys(conversation_ids) if c in self._protected]


def conversation_ids(body: Mapping[str, Any]) -> list[str] | str:
    """The body's `conversationIds`, or why they cannot be used."""
    ids = body.get("conversationIds")
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        return "conversationIds must be a list of conversation ids"
    if len(ids) > MAX_CONVERSATIONS:
        return f"conversationIds cannot exceed {MAX_CONVERSATIONS} conversation ids"
    return ids


def entity_ref(conversation_id: str) -> dict[str, str]:
    """An `AddressableEntityRef` of a conversation."""
    return {"id": conversation_id, "selfUri": f"/api/v2/conversations/{conversation_id}"}
