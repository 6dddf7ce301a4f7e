"""From an import source to a connected Genesys client (the wiring of its proxy, TLS and budget)."""

from __future__ import annotations

import dataclasses

from callarchive.clock import Clock
from callarchive.configuration import ImportSource
from callarchive.genesys import (
    ConnectionSettings,
    GenesysClient,
    ProxySettings,
    TlsSettings,
    TokenVault,
    connect,
)

DEFAULT_TIMEOUT_S = 60.0  # seconds to connect, or between two reads, before giving up


def connection_settings(
    source: ImportSource,
    *,
    certificate_folder: str | None = None,
    server_certificate: TlsSettings | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> ConnectionSettings:
    """The Genesys connection an import source describes.

    An import source that names no client certificate presents the installation's own
    (`server_certificate`, from CALLARCHIVE_TLS_CERTIFICATE), as the seed says: "If not
    configured, the server certificate is used."
    """
    proxy = None
    if source.proxy_address:
        proxy = ProxySettings(
            address=source.proxy_address,
            port=source.proxy_port or 8080,
            username=source.proxy_username or None,
            password=source.proxy_password.reveal() if source.proxy_password else None,
        )
    tls = TlsSettings(
        certificate=source.tls_certificate or None,
        certificate_folder=certificate_folder,
        key_file=source.tls_key_file or None,
        key_password=source.tls_key_password.reveal() if source.tls_key_password else None,
        trust_list=source.tls_trust_list or None,
    )
    if not source.tls_certificate and server_certificate is not None:
        tls = dataclasses.replace(
            tls,
            certificate=server_certificate.certificate,
            key_file=server_certificate.key_file,
            key_password=server_certificate.key_password,
        )
    return ConnectionSettings(
        auth_url=source.auth_url,
        api_url=source.api_url,
        client_id=source.client_id,
        client_secret=source.client_secret.reveal(),
        proxy=proxy,
        tls=tls,
        requests_per_minute=source.request_budget_per_minute,
        timeout_s=timeout_s,
    )


def connect_source(
    source: ImportSource,
    *,
    clock: Clock,
    vault: TokenVault | None = None,
    certificate_folder: str | None = None,
    server_certificate: TlsSettings | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> GenesysClient:
    """A Genesys client for `source` (close it, or use it as an async context manager)."""
    settings = connection_settings(
        source,
        certificate_folder=certificate_folder,
        server_certificate=server_certificate,
        timeout_s=timeout_s,
    )
    return connect(settings, clock=clock, vault=vault)
