"""How to reach Genesys Cloud: URLs, credentials, forward proxy and TLS, as one value.

`ssl_context` and `proxy` turn the seed's TLS and proxy items into what httpx needs. TLS
verification is always on: the trust list, when given, is the only set of trusted CAs; the
client certificate comes from a file or is selected by thumbprint from a certificate folder.
"""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from callarchive.errors import ConfigurationError
from callarchive.genesys.regions import check_url


@dataclass(frozen=True, kw_only=True, slots=True)
class ProxySettings:
    """The seed's Forward Proxy items."""

    address: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def url(self) -> str:
        host = self.address.strip()
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # an IPv6 literal
        return f"http://{host}:{self.port}"


@dataclass(frozen=True, kw_only=True, slots=True)
class TlsSettings:
    """The seed's TLS items."""

    certificate: str | None = None  # a certificate file, or a thumbprint (hex SHA-1 or SHA-256)
    certificate_folder: str | None = None  # where thumbprints are looked up
    key_file: str | None = None
    key_password: str | None = field(default=None, repr=False)
    trust_list: str | None = None  # CA bundle (PEM)


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectionSettings:
    """Everything needed to talk to one Genesys Cloud org."""

    auth_url: str
    api_url: str
    client_id: str
    client_secret: str = field(repr=False)
    proxy: ProxySettings | None = None
    tls: TlsSettings = field(default_factory=TlsSettings)
    requests_per_minute: int = 300
    timeout_s: float = 60.0

    def __post_init__(self) -> None:
        check_url(self.auth_url, field="auth_url")
        check_url(self.api_url, field="api_url")
        if not self.client_id.strip():
            raise ConfigurationError(
                "is mandatory (copy it from the Genesys OAuth client)", field="client_id"
            )
        if not self.client_secret:
            raise ConfigurationError(
                "is mandatory (copy it from the Genesys OAuth client)", field="client_secret"
            )
        if self.requests_per_minute < 1:
            raise ConfigurationError("must be at least 1", field="request_budget_per_minute")


def proxy(settings: ProxySettings | None) -> httpx.Proxy | None:
    """The httpx proxy with basic authentication, if a proxy is configured."""
    if settings is None:
        return None
    if not 1 <= settings.port <= 65535:
        raise ConfigurationError(
            f"must be between 1 and 65535, got {settings.port}", field="proxy_port"
        )
    if settings.username:
        return httpx.Proxy(settings.url(), auth=(settings.username, settings.password or ""))
    return httpx.Proxy(settings.url())


def ssl_context(settings: TlsSettings) -> ssl.SSLContext:
    """A verifying TLS context: trust list (or the system's CAs) and the client certificate."""
    try:
        if settings.trust_list:
            context = ssl.create_default_context(
                cafile=_existing(settings.trust_list, "tls_trust_list")
            )
        else:
            context = ssl.create_default_context()
    except ssl.SSLError as error:
        raise ConfigurationError(
            f"is not a PEM CA bundle: {error.reason}", field="tls_trust_list"
        ) from None
    certificate = _certificate_file(settings)
    if certificate is not None:
        try:
            context.load_cert_chain(
                certificate,
                keyfile=_existing(settings.key_file, "tls_key_file") if settings.key_file else None,
                password=settings.key_password or None,
            )
        except ssl.SSLError as error:
            raise ConfigurationError(
                f"the certificate and key do not load ({error.reason}); check the TLS Key File "
                "and TLS Key Password",
                field="tls_certificate",
            ) from None
    return context


def _existing(path: str, field_name: str) -> str:
    if not Path(path).is_file():
        raise ConfigurationError(f"file {path!r} does not exist", field=field_name)
    return path


def _certificate_file(settings: TlsSettings) -> str | None:
    value = (settings.certificate or "").strip()
    if not value:
        return None
    if Path(value).is_file():
        return value
    thumbprint = value.replace(":", "").replace(" ", "").lower()
    if not settings.certificate_folder or not all(c in "0123456789abcdef" for c in thumbprint):
        raise ConfigurationError(
            f"{value!r} is neither a certificate file nor a thumbprint with a certificate folder",
            field="tls_certificate",
        )
    for candidate in sorted(Path(settings.certificate_folder).glob("*")):
        if candidate.is_file() and thumbprint in _thumbprints(candidate):
            return str(candidate)
    raise ConfigurationError(
        f"no certificate with thumbprint {value} in {settings.certificate_folder}",
        field="tls_certificate",
    )


def _thumbprints(path: Path) -> set[str]:
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError:
        return set()
    der = certificate.public_bytes(Encoding.DER)
    return {
        hashlib.sha1(der, usedforsecurity=False).hexdigest(),
        hashlib.sha256(der).hexdigest(),
    }
