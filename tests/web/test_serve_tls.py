"""`callarchive serve` serves the web UI over HTTPS with the installation's certificate, and
refuses plain HTTP anywhere but on loopback."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
import trustme

from tests.scheduling.processes import running
from tests.web.site import PASSWORD


def _installation(tmp_path: Path) -> dict[str, str]:
    return {
        "CALLARCHIVE_HOME": str(tmp_path / "home"),
        "CALLARCHIVE_DATABASE_URL": f"sqlite:///{tmp_path}/archive.db",
        "CALLARCHIVE_SERVER_NAME": "web-node",
    }


def test_serve_speaks_https_with_the_configured_certificate(tmp_path: Path) -> None:
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    chain, key = tmp_path / "server.pem", tmp_path / "server.key"
    certificate.private_key_pem.write_to_path(str(key))
    chain.write_bytes(b"".join(blob.bytes() for blob in certificate.cert_chain_pems))
    env = {
        **_installation(tmp_path),
        "CALLARCHIVE_TLS_CERTIFICATE": str(chain),
        "CALLARCHIVE_TLS_KEY": str(key),
    }
    with running(["db", "upgrade"], env) as upgrade:
        assert upgrade.popen.wait(timeout=120) == 0
    with running(
        ["user", "add", "--login", "ada", "--name", "Ada", "--role", "administrator"], env
    ) as add:
        assert add.popen.wait(timeout=120) == 0
    with running(["serve", "--port", "0"], env) as serve:
        banner = serve.line("LISTENING")
        url = banner.split()[1]
        assert url.startswith("https://127.0.0.1:")
        trusted = ssl.create_default_context()
        ca.configure_trust(trusted)
        with httpx.Client(base_url=url, verify=trusted, trust_env=False) as client:
            page = client.get("/login")
            assert page.status_code == 200
            assert page.headers["strict-transport-security"] == "max-age=31536000"
            token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            assert "secure" in page.headers["set-cookie"].lower()
            wrong = client.post(
                "/login", data={"login": "ada", "password": PASSWORD, "csrf_token": token}
            )
            assert wrong.status_code == 401  # no password set yet: nobody signs in
        with (
            httpx.Client(
                base_url=url, verify=ssl.create_default_context(), trust_env=False
            ) as untrusting,
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
        ):
            untrusting.get("/login")
        assert serve.stop() == 0


def test_serve_refuses_plain_http_beyond_loopback(tmp_path: Path) -> None:
    env = _installation(tmp_path)
    with running(["db", "upgrade"], env) as upgrade:
        assert upgrade.popen.wait(timeout=120) == 0
    with running(["serve", "--host", "0.0.0.0", "--port", "0"], env) as serve:  # noqa: S104
        assert serve.popen.wait(timeout=120) == 2
        serve.close()
        assert any("CALLARCHIVE_TLS_CERTIFICATE" in line for line in serve.other)
