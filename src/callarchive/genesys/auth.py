"""OAuth client credentials: getting, caching and renewing the Genesys access token.

Client-credentials tokens have no refresh token: a new one is requested from the
Authentication URL (`POST /oauth/token`, Basic auth, `grant_type=client_credentials`). The token
is cached encrypted in the work store so that runs reuse it, renewed ahead of its expiry and
when the API answers 401 (at most three times for one request); a lock makes concurrent
requests share one renewal.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Protocol

import httpx
import structlog
from cryptography.fernet import InvalidToken

from callarchive.clock import Clock
from callarchive.genesys.errors import (
    AuthenticationError,
    GenesysUnavailableError,
    ProxyError,
    TlsError,
)
from callarchive.genesys.retry import is_tls_failure

log = structlog.get_logger("callarchive.genesys")
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a URL path, not a secret


class BlobStore(Protocol):
    """Where the encrypted token lives (the work store)."""

    async def get(self, key: str) -> bytes | None: ...

    async def put(self, key: str, data: bytes) -> None: ...


class Cipher(Protocol):
    """Symmetric encryption of small values (a Fernet)."""

    def encrypt(self, data: bytes) -> bytes: ...

    def decrypt(self, token: bytes) -> bytes: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class AccessToken:
    value: str
    expires_at: dt.datetime
    client_id: str
    auth_url: str

    def usable(self, now: dt.datetime, margin: dt.timedelta) -> bool:
        return now < self.expires_at - margin

    def __repr__(self) -> str:
        return (
            f"AccessToken(client_id={self.client_id!r}, expires_at={self.expires_at.isoformat()})"
        )


class TokenVault(Protocol):
    async def load(self) -> AccessToken | None: ...

    async def save(self, token: AccessToken) -> None: ...


class EncryptedTokenVault:
    """The token, encrypted, at one key of a blob store."""

    def __init__(self, store: BlobStore, key: str, cipher: Cipher) -> None:
        self._store = store
        self._key = key
        self._cipher = cipher

    async def load(self) -> AccessToken | None:
        blob = await self._store.get(self._key)
        if blob is None:
            return None
        try:
            data = json.loads(self._cipher.decrypt(blob))
            return AccessToken(
                value=str(data["value"]),
                expires_at=dt.datetime.fromisoformat(data["expires_at"]),
                client_id=str(data["client_id"]),
                auth_url=str(data["auth_url"]),
            )
        except (InvalidToken, ValueError, KeyError, TypeError):
            # A rotated key or a damaged file: the cache is only a cache, fetch a new token.
            log.warning("token_cache_unreadable", key=self._key)
            return None

    async def save(self, token: AccessToken) -> None:
        data = {
            "value": token.value,
            "expires_at": token.expires_at.isoformat(),
            "client_id": token.client_id,
            "auth_url": token.auth_url,
        }
        await self._store.put(self._key, self._cipher.encrypt(json.dumps(data).encode()))


class TokenProvider:
    """Hands out a valid token, fetching a new one when needed, one fetch at a time."""

    def __init__(
        self,
        login: httpx.AsyncClient,
        *,
        auth_url: str,
        client_id: str,
        client_secret: str,
        clock: Clock,
        vault: TokenVault | None = None,
        renew_margin: dt.timedelta = dt.timedelta(minutes=5),
        via_proxy: str | None = None,
    ) -> None:
        self._login = login
        self._auth_url = auth_url.rstrip("/")
        self._client_id = client_id
        self._secret = client_secret
        self._clock = clock
        self._vault = vault
        self._margin = renew_margin
        self._via = via_proxy
        self._token: AccessToken | None = None
        self._lock = asyncio.Lock()
        self.fetched = 0

    def _usable(self, token: AccessToken | None) -> bool:
        return (
            token is not None
            and token.client_id == self._client_id
            and token.auth_url == self._auth_url
            and token.usable(self._clock.now(), self._margin)
        )

    async def token(self) -> AccessToken:
        if self._usable(self._token):
            assert self._token is not None  # noqa: S101 - checked by _usable
            return self._token
        async with self._lock:
            if not self._usable(self._token) and self._vault is not None:
                self._token = await self._vault.load()
            if not self._usable(self._token):
                await self._fetch()
            assert self._token is not None  # noqa: S101 - set above
            return self._token

    async def renew(self, rejected: AccessToken) -> AccessToken:
        """A new token after the API rejected `rejected` (unless another task already renewed)."""
        async with self._lock:
            if self._token is None or self._token.value == rejected.value:
                await self._fetch()
            assert self._token is not None  # noqa: S101 - set above
            return self._token

    async def _fetch(self) -> None:
        url = f"{self._auth_url}{TOKEN_PATH}"
        try:
            response = await self._login.post(
                url,
                data={"grant_type": "client_credentials"},
                auth=httpx.BasicAuth(self._client_id, self._secret),
            )
        except httpx.TransportError as error:
            if is_tls_failure(error):
                raise TlsError(
                    f"TLS with the Authentication URL failed: {error}; check the TLS Trust List "
                    "and the client certificate",
                    endpoint=f"POST {TOKEN_PATH}",
                ) from error
            route = f" through the forward proxy {self._via}" if self._via else ""
            hint = "; check the proxy address, port, username and password" if self._via else ""
            raise GenesysUnavailableError(
                f"could not reach the Authentication URL {self._auth_url}{route} "
                f"({type(error).__name__}){hint}",
                endpoint=f"POST {TOKEN_PATH}",
            ) from error
        body = _json_or_empty(response)
        if response.status_code != 200 or "access_token" not in body:
            raise _token_error(response, body, self._auth_url)
        lifetime = _lifetime(body.get("expires_in"))
        now = self._clock.now()
        self._token = AccessToken(
            value=str(body["access_token"]),
            expires_at=now + dt.timedelta(seconds=lifetime),
            client_id=self._client_id,
            auth_url=self._auth_url,
        )
        self.fetched += 1
        # Renew ahead of expiry: a tenth of the lifetime, but never more than five minutes.
        self._margin = min(dt.timedelta(minutes=5), dt.timedelta(seconds=lifetime / 10))
        log.info("token_obtained", client_id=self._client_id, expires_in=lifetime)
        if self._vault is not None:
            await self._vault.save(self._token)


def _lifetime(value: object) -> int:
    """Seconds from `expires_in`; a day when it is missing or not a positive number."""
    if isinstance(value, int | float) and value > 0:
        return int(value)
    return 86_400


def _json_or_empty(response: httpx.Response) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _token_error(
    response: httpx.Response, body: dict[str, object], auth_url: str
) -> AuthenticationError | GenesysUnavailableError | ProxyError:
    code = str(body.get("error") or body.get("code") or "")
    correlation = response.headers.get("inin-correlation-id")
    if response.status_code in (401, 407) and "error" not in body:
        return ProxyError(
            "the forward proxy refused the credentials; check the proxy username and password",
            endpoint=f"POST {TOKEN_PATH}",
            status=response.status_code,
        )
    if response.status_code >= 500 or response.status_code == 429:
        return GenesysUnavailableError(
            "the Authentication URL is unavailable",
            endpoint=f"POST {TOKEN_PATH}",
            status=response.status_code,
            code=code or None,
            correlation_id=correlation,
        )
    description = str(body.get("error_description") or body.get("description") or "")
    return AuthenticationError(
        f"Genesys refused the client credentials{': ' + description if description else ''}; "
        f"check the Client Id and Client Secret of the OAuth client (grant type Client "
        f"Credentials) and that {auth_url} is the login host of the org's region",
        endpoint=f"POST {TOKEN_PATH}",
        status=response.status_code,
        code=code or None,
        correlation_id=correlation,
    )


# Renewals one request may need: a token can be revoked again (an administrator revoking the
# client's tokens, say) while the requests rejected with the previous one are sent again with
# the new one. New tokens rejected this many times in a row mean the client itself is refused.
MAX_RENEWALS = 3


class BearerAuth(httpx.Auth):
    """Adds the bearer token; on 401, renews it and sends the request again (at most
    `MAX_RENEWALS` times, so a client Genesys keeps refusing fails instead of looping)."""

    def __init__(self, provider: TokenProvider) -> None:
        self._provider = provider

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._provider.token()
        request.headers["Authorization"] = f"Bearer {token.value}"
        response = yield request
        # A 401 without Genesys's correlation id did not come from Genesys (a proxy, say):
        # a new token would not help.
        renewals = 0
        while (
            response.status_code == 401
            and "inin-correlation-id" in response.headers
            and renewals < MAX_RENEWALS
        ):
            log.info("token_rejected", path=request.url.path)
            token = await self._provider.renew(token)
            request.headers["Authorization"] = f"Bearer {token.value}"
            renewals += 1
            response = yield request
