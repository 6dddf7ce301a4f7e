"""OAuth clients and bearer tokens (client-credentials grant only, as the importer uses it).

Each client has a secret and a set of permissions (the roles of its OAuth client in Genesys).
Tokens expire after `token_ttl_s`; `revoke_all` invalidates every token issued so far, which is
what an administrator deleting or resetting the OAuth client does mid-run.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
import threading
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class Client:
    client_id: str
    secret: str
    permissions: frozenset[str]


@dataclass(frozen=True, kw_only=True, slots=True)
class Token:
    value: str
    client: Client
    expires: dt.datetime


class Clients:
    """Registered OAuth clients and the tokens issued to them."""

    def __init__(self, clients: list[Client], token_ttl_s: int) -> None:
        self._clients = {c.client_id: c for c in clients}
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()
        self.token_ttl_s = token_ttl_s

    def add(self, client: Client) -> None:
        with self._lock:
            self._clients[client.client_id] = client

    def authenticate(self, authorization: str | None) -> Client | None:
        """The client named by a Basic authorization header, if its secret is right."""
        if not authorization or not authorization.lower().startswith("basic "):
            return None
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("latin-1")
        except (binascii.Error, ValueError):
            return None
        client_id, _, secret = decoded.partition(":")
        with self._lock:
            client = self._clients.get(client_id)
        if client is None or not secrets.compare_digest(client.secret, secret):
            return None
        return client

    def issue(self, client: Client, now: dt.datetime) -> Token:
        token = Token(
            value=secrets.token_urlsafe(48),
            client=client,
            expires=now + dt.timedelta(seconds=self.token_ttl_s),
        )
        with self._lock:
            self._tokens[token.value] = token
        return token

    def token(self, authorization: str | None, now: dt.datetime) -> Token | None:
        """The live token of a Bearer authorization header."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        with self._lock:
            token = self._tokens.get(authorization[7:].strip())
        if token is None or token.expires <= now:
            return None
        return token

    def revoke_all(self) -> int:
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
        return count
