"""From an import source to its Genesys connection: the installation's certificate is the
default client certificate ("If not configured, the server certificate is used")."""

from __future__ import annotations

from callarchive.genesys import TlsSettings
from callarchive.imports import connection_settings
from tests.configuration.builders import make_source

SERVER = TlsSettings(
    certificate="/etc/callarchive/server.pem", key_file="/etc/k.pem", key_password="pw"
)


def test_a_source_without_a_certificate_presents_the_installations() -> None:
    tls = connection_settings(make_source(), server_certificate=SERVER).tls
    assert (tls.certificate, tls.key_file, tls.key_password) == (
        "/etc/callarchive/server.pem",
        "/etc/k.pem",
        "pw",
    )


def test_a_source_with_its_own_certificate_keeps_it() -> None:
    source = make_source(tls_certificate="/srv/own.pem", tls_key_file="/srv/own.key")
    tls = connection_settings(source, server_certificate=SERVER).tls
    assert (tls.certificate, tls.key_file, tls.key_password) == (
        "/srv/own.pem",
        "/srv/own.key",
        None,
    )


def test_without_an_installation_certificate_there_is_none() -> None:
    tls = connection_settings(make_source()).tls
    assert (tls.certificate, tls.key_file) == (None, None)
