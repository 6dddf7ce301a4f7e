"""Real TLS with a test CA: trust list, mutual TLS with an encrypted key, thumbprints."""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from callarchive.errors import ConfigurationError
from callarchive.genesys import TlsError, TlsSettings, connect
from callarchive.genesys.connection import ssl_context
from tests.emulator.harness import RunningEmulator
from tests.genesys.conftest import EmulatorClock, EmulatorFactory, settings_for

KEY_PASSWORD = "k3y-passw0rd"


@dataclass
class Pki:
    ca_file: Path
    server_file: Path
    client_ca_file: Path
    client_cert: Path
    client_key: Path  # encrypted with KEY_PASSWORD
    harness_context: ssl.SSLContext


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    ca, client_ca = trustme.CA(), trustme.CA()
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    client_ca.cert_pem.write_to_path(tmp_path / "client-ca.pem")
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(tmp_path / "server.pem")
    client = client_ca.issue_cert("callarchive-client@example-bank.com")
    (tmp_path / "certs").mkdir()
    client_cert = tmp_path / "certs" / "client.pem"
    client.cert_chain_pems[0].write_to_path(client_cert)
    key = serialization.load_pem_private_key(client.private_key_pem.bytes(), password=None)
    client_key = tmp_path / "client.key"
    client_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
        )
    )
    harness = ssl.create_default_context(cafile=tmp_path / "ca.pem")
    client.configure_cert(harness)
    return Pki(
        ca_file=tmp_path / "ca.pem",
        server_file=tmp_path / "server.pem",
        client_ca_file=tmp_path / "client-ca.pem",
        client_cert=client_cert,
        client_key=client_key,
        harness_context=harness,
    )


def https(make_emulator: EmulatorFactory, pki: Pki, *, mutual: bool = False) -> RunningEmulator:
    options: dict[str, object] = {"ssl_certfile": str(pki.server_file)}
    if mutual:
        options |= {"ssl_ca_certs": str(pki.client_ca_file), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    return make_emulator(uvicorn_options=options, verify=pki.harness_context)


async def first_user(emulator: RunningEmulator, tls: TlsSettings) -> str:
    users = emulator.ground_truth()["users"]
    async with connect(settings_for(emulator, tls=tls), clock=EmulatorClock(emulator)) as client:
        return (await client.user(users[0]["id"])).id


async def test_server_trusted_through_the_trust_list(
    make_emulator: EmulatorFactory, pki: Pki
) -> None:
    emulator = https(make_emulator, pki)
    assert await first_user(emulator, TlsSettings(trust_list=str(pki.ca_file)))


async def test_server_outside_the_trust_list_fails_clearly(
    make_emulator: EmulatorFactory, pki: Pki
) -> None:
    emulator = https(make_emulator, pki)
    with pytest.raises(TlsError, match="Trust List"):
        await first_user(emulator, TlsSettings())
    with pytest.raises(TlsError, match="certificate verify failed"):
        await first_user(emulator, TlsSettings(trust_list=str(pki.client_ca_file)))


async def test_mutual_tls_with_a_client_certificate_and_encrypted_key(
    make_emulator: EmulatorFactory, pki: Pki
) -> None:
    emulator = https(make_emulator, pki, mutual=True)
    tls = TlsSettings(
        trust_list=str(pki.ca_file),
        certificate=str(pki.client_cert),
        key_file=str(pki.client_key),
        key_password=KEY_PASSWORD,
    )
    assert await first_user(emulator, tls)


async def test_mutual_tls_without_a_client_certificate_is_refused(
    make_emulator: EmulatorFactory, pki: Pki
) -> None:
    emulator = https(make_emulator, pki, mutual=True)
    with pytest.raises(TlsError):
        await first_user(emulator, TlsSettings(trust_list=str(pki.ca_file)))


@pytest.mark.parametrize("digest", ["sha1", "sha256"])
async def test_client_certificate_selected_by_thumbprint(
    make_emulator: EmulatorFactory, pki: Pki, digest: str
) -> None:
    emulator = https(make_emulator, pki, mutual=True)
    der = x509.load_pem_x509_certificate(pki.client_cert.read_bytes()).public_bytes(
        serialization.Encoding.DER
    )
    thumbprint = hashlib.new(digest, der).hexdigest().upper()
    tls = TlsSettings(
        trust_list=str(pki.ca_file),
        certificate=":".join(thumbprint[i : i + 2] for i in range(0, len(thumbprint), 2)),
        certificate_folder=str(pki.client_cert.parent),
        key_file=str(pki.client_key),
        key_password=KEY_PASSWORD,
    )
    assert await first_user(emulator, tls)


@pytest.mark.parametrize(
    ("tls", "field", "message"),
    [
        (TlsSettings(trust_list="/nonexistent/ca.pem"), "tls_trust_list", "does not exist"),
        (TlsSettings(certificate="ab:cd"), "tls_certificate", "neither a certificate file"),
    ],
)
def test_bad_tls_settings_name_the_field(tls: TlsSettings, field: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as raised:
        ssl_context(tls)
    assert raised.value.field == field


def test_wrong_key_password_names_the_key_password(pki: Pki) -> None:
    tls = TlsSettings(
        certificate=str(pki.client_cert), key_file=str(pki.client_key), key_password="nope"
    )
    with pytest.raises(ConfigurationError, match="TLS Key Password"):
        ssl_context(tls)


def test_unknown_thumbprint_names_the_folder(pki: Pki) -> None:
    tls = TlsSettings(certificate="00" * 20, certificate_folder=str(pki.client_cert.parent))
    with pytest.raises(ConfigurationError, match="no certificate with thumbprint"):
        ssl_context(tls)
