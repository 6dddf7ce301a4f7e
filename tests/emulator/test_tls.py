"""HTTPS with a test CA (trustme), and mutual TLS with client certificates."""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from tests.emulator.conftest import BASE
from tests.emulator.harness import RunningEmulator, serve


@pytest.fixture(scope="module")
def server_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def client_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_pem(server_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's key and certificate chain for 127.0.0.1, in one PEM file."""
    path = tmp_path_factory.mktemp("tls") / "server.pem"
    server_ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(path))
    return path


@pytest.fixture
def https(server_pem: Path, tmp_path: Path) -> Iterator[RunningEmulator]:
    config = dataclasses.replace(BASE, cache_dir=str(tmp_path / "media"))
    with serve(config, ssl_certfile=str(server_pem), ssl_keyfile=str(server_pem)) as emulator:
        yield emulator


@pytest.fixture
def mutual(server_pem: Path, client_ca: trustme.CA, tmp_path: Path) -> Iterator[RunningEmulator]:
    """HTTPS that requires a client certificate issued by `client_ca`."""
    ca_path = tmp_path / "client-ca.pem"
    client_ca.cert_pem.write_to_path(str(ca_path))
    config = dataclasses.replace(BASE, cache_dir=str(tmp_path / "media"))
    with serve(
        config,
        ssl_certfile=str(server_pem),
        ssl_keyfile=str(server_pem),
        ssl_ca_certs=str(ca_path),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
    ) as emulator:
        yield emulator


def _context(trusted: trustme.CA | None, identity: trustme.CA | None = None) -> ssl.SSLContext:
    """A client context trusting `trusted` (or only the system CAs), presenting a certificate
    issued by `identity` if given."""
    context = ssl.create_default_context()
    if trusted is not None:
        trusted.configure_trust(context)
    if identity is not None:
        identity.issue_cert("importer@callarchive.test").configure_cert(context)
    return context


def _login(emulator: RunningEmulator, context: ssl.SSLContext) -> httpx.Response:
    config = emulator.config
    with httpx.Client(base_url=emulator.base_url, verify=context, timeout=30) as http:
        return http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(config.client_id, config.client_secret),
        )


def test_emulator_serves_https(https: RunningEmulator):
    assert https.base_url.startswith("https://")


def test_client_trusting_the_test_ca_gets_a_token_over_https(
    https: RunningEmulator, server_ca: trustme.CA
):
    response = _login(https, _context(server_ca))

    assert response.status_code == 200
    assert response.json()["access_token"]


@pytest.mark.parametrize("trusted", ["system", "other-ca"])
def test_client_not_trusting_the_test_ca_fails_certificate_verification(
    https: RunningEmulator, client_ca: trustme.CA, trusted: str
):
    context = _context(client_ca if trusted == "other-ca" else None)

    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        _login(https, context)


def test_client_certificate_from_the_client_ca_is_accepted(
    mutual: RunningEmulator, server_ca: trustme.CA, client_ca: trustme.CA
):
    response = _login(mutual, _context(server_ca, identity=client_ca))

    assert response.status_code == 200


def test_client_without_a_certificate_is_refused(mutual: RunningEmulator, server_ca: trustme.CA):
    with pytest.raises(httpx.TransportError):
        _login(mutual, _context(server_ca))


def test_client_certificate_from_another_ca_is_refused(
    mutual: RunningEmulator, server_ca: trustme.CA
):
    with pytest.raises(httpx.TransportError):
        _login(mutual, _context(server_ca, identity=trustme.CA()))
