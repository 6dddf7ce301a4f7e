"""No secret at rest or in the logs: an import through an authenticating proxy, over mutual TLS
with an encrypted key, leaves none of its secrets (client secret, proxy password, TLS key
password) nor the Genesys access token in plaintext in any file of the installation (database,
work store, media store), in a PostgreSQL dump, in the debug logs or in the configuration
export."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import shutil
import ssl
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from sqlalchemy import create_engine, make_url, select

from callarchive.archive.schema import Base
from callarchive.cli import Wiring
from callarchive.secrets import load_secret_box
from tests.archive.fixtures import BACKENDS, empty_postgres
from tests.emulator.harness import serve
from tests.genesys.proxy import RunningProxy, tinyproxy
from tests.imports.conftest import ORG
from tests.imports.harness import POLICY, Installation, LinkedClock
from tests.imports.observe import PAIR, archived, document_for, truth

CLIENT_SECRET = "cs-MARKER-5b1f0e7a9c3d"
PROXY_PASSWORD = "pp-MARKER-8e2d4c6a0f1b"
KEY_PASSWORD = "kp-MARKER-3a7c9e1b5d0f"


@dataclasses.dataclass
class Pki:
    ca: Path
    server: Path
    client_ca: Path
    client_cert: Path
    client_key: Path  # encrypted with KEY_PASSWORD
    harness: ssl.SSLContext


def make_pki(folder: Path) -> Pki:
    folder.mkdir()
    ca, client_ca = trustme.CA(), trustme.CA()
    ca.cert_pem.write_to_path(folder / "ca.pem")
    client_ca.cert_pem.write_to_path(folder / "client-ca.pem")
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(folder / "server.pem")
    client = client_ca.issue_cert("callarchive@example-bank.com")
    client.cert_chain_pems[0].write_to_path(folder / "client.pem")
    key = serialization.load_pem_private_key(client.private_key_pem.bytes(), password=None)
    (folder / "client.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
        )
    )
    harness = ssl.create_default_context(cafile=folder / "ca.pem")
    client.configure_cert(harness)
    return Pki(
        ca=folder / "ca.pem",
        server=folder / "server.pem",
        client_ca=folder / "client-ca.pem",
        client_cert=folder / "client.pem",
        client_key=folder / "client.key",
        harness=harness,
    )


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'callarchive.db'}"
    return empty_postgres(request.getfixturevalue("postgres_database"))


@pytest.fixture
def secured(tmp_path: Path, database_url: str) -> Iterator[tuple[Installation, RunningProxy]]:
    """An installation importing over mutual TLS through an authenticating proxy."""
    pki = make_pki(tmp_path / "pki")
    org = dataclasses.replace(
        ORG, client_secret=CLIENT_SECRET, cache_dir=str(tmp_path / "emulator-media")
    )
    with (
        tinyproxy(tmp_path, username="archiver", password=PROXY_PASSWORD) as proxy,
        serve(
            org,
            verify=pki.harness,
            ssl_certfile=str(pki.server),
            ssl_ca_certs=str(pki.client_ca),
            ssl_cert_reqs=ssl.CERT_REQUIRED,
        ) as emulator,
    ):
        installation = Installation(
            home=tmp_path / "home",
            database_url=database_url,
            emulator=emulator,
            clock=LinkedClock(emulator),
        )
        document = document_for(installation)
        document["import_sources"][0] |= {
            "tls_trust_list": str(pki.ca),
            "tls_certificate": str(pki.client_cert),
            "tls_key_file": str(pki.client_key),
            "tls_key_password": KEY_PASSWORD,
            "proxy_address": proxy.host,
            "proxy_port": proxy.port,
            "proxy_username": proxy.username,
            "proxy_password": PROXY_PASSWORD,
        }
        outside = tmp_path / "config-with-secrets.json"  # the operator's file, not the home's
        outside.write_text(json.dumps(document))
        installation.must("db", "upgrade")
        installation.must("config", "import", str(outside))
        outside.unlink()
        yield installation, proxy


def access_token(installation: Installation) -> str:
    """The cached Genesys access token, decrypted with the installation's key."""
    [vault] = (installation.work_folder() / "work" / PAIR).glob("token")
    box = load_secret_box(home=installation.home, env_key=None)
    return str(json.loads(box.fernet.decrypt(vault.read_bytes()))["value"])


def database_text(url: str) -> bytes:
    """Every value of every table, as text (both databases), and a pg_dump on PostgreSQL."""
    sync_url = make_url(url)
    if sync_url.get_backend_name() == "postgresql":
        sync_url = sync_url.set(drivername="postgresql+psycopg")
    engine = create_engine(sync_url)
    found: list[str] = []
    try:
        with engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                for row in connection.execute(select(table)):
                    found += [repr(value) for value in row]
    finally:
        engine.dispose()
    dumped = b""
    if sync_url.get_backend_name() == "postgresql" and shutil.which("pg_dump"):
        libpq = sync_url.set(drivername="postgresql").render_as_string(hide_password=False)
        dumped = subprocess.run(
            ["pg_dump", "--no-owner", libpq],
            check=True,
            capture_output=True,
        ).stdout
        assert b"CREATE TABLE public.import_sources" in dumped
    return "\n".join(found).encode() + dumped


def forms(secret: str) -> list[bytes]:
    """The ways a secret could be written down by mistake."""
    raw = secret.encode()
    return [raw, base64.b64encode(raw), urllib.parse.quote(secret).encode(), raw.hex().encode()]


def test_no_secret_is_stored_or_logged_in_plaintext(
    secured: tuple[Installation, RunningProxy], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    installation, proxy = secured
    run = installation.must(
        "--log-level", "debug", "--log-json", "import", "run", "--policy", POLICY,
        "--until-caught-up",
    )  # fmt: skip
    assert set(archived(installation)) == set(truth(installation))
    assert proxy.requests(), "the import tunnelled through the proxy"
    token = access_token(installation)
    assert len(token) >= 16
    export = tmp_path / "export.json"
    installation.must("config", "export", str(export))
    exported = json.loads(export.read_text())["import_sources"][0]
    assert exported["proxy_username"] == "archiver"

    places: dict[str, bytes] = {
        "logs": (run.stderr + run.output).encode() + caplog.text.encode(),
        "export": export.read_bytes(),
        "database": database_text(installation.database_url),
    }
    assert b'"event": "run_finished"' in places["logs"]  # the debug log was captured
    assert b"archiver" in places["database"]  # the search reads the stored values
    for path in sorted(p for p in installation.home.rglob("*") if p.is_file()):
        places[str(path.relative_to(installation.home))] = path.read_bytes()
    assert any(name.startswith("work/") for name in places), "the work store was searched"
    assert any(name.startswith("media/") for name in places), "the media store was searched"
    leaks = [
        (where, secret)
        for secret in (CLIENT_SECRET, PROXY_PASSWORD, KEY_PASSWORD, token)
        for where, content in places.items()
        for form in forms(secret)
        if form in content
    ]
    assert leaks == []


def test_the_markers_are_stored_encrypted_and_open_with_the_key(
    secured: tuple[Installation, RunningProxy],
) -> None:
    """What the search looks for is there, only encrypted."""
    wired: Wiring = secured[0].wiring()

    async def stored() -> tuple[str, str | None, str | None]:
        async with wired.archive() as archive:
            [source] = await archive.import_sources.list()
        return (
            source.client_secret.reveal(),
            source.proxy_password.reveal() if source.proxy_password else None,
            source.tls_key_password.reveal() if source.tls_key_password else None,
        )

    assert asyncio.run(stored()) == (CLIENT_SECRET, PROXY_PASSWORD, KEY_PASSWORD)
