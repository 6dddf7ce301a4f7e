"""The Import Source items of the seed's table: validation, canonical forms, defaults."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from callarchive.configuration import (
    FIELDS,
    MANDATORY_FIELDS,
    Codec,
    FetchStrategy,
    ImportSource,
    check_files,
    parse_import_source,
)
from callarchive.errors import ConfigurationError
from callarchive.secrets import Secret
from tests.configuration.builders import make_source, source_items


def rejection(**overrides: Any) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as caught:
        make_source(**overrides)
    return caught.value


def test_the_seed_items_are_all_configurable_in_the_seed_order() -> None:
    assert list(FIELDS)[:20] == [
        "name",
        "client_id",
        "client_secret",
        "auth_url",
        "api_url",
        "tls_certificate",
        "tls_key_file",
        "tls_key_password",
        "tls_trust_list",
        "proxy_address",
        "proxy_port",
        "proxy_username",
        "proxy_password",
        "codec",
        "recording_timezone",
        "recording_start",
        "max_recording_length_min",
        "availability_delay_min",
        "cache_lifetime_min",
        "delete_on_completion",
    ]
    assert {field.name for field in dataclasses.fields(ImportSource)} == {*FIELDS, "id"}


def test_a_valid_source_takes_canonical_values_and_defaults() -> None:
    source = make_source(codec="mp3", api_url="https://api.usw2.pure.cloud/")
    assert source.codec is Codec.MP3
    assert source.api_url == "https://api.usw2.pure.cloud"
    assert source.max_recording_length_min == 240
    assert source.fetch_strategy is FetchStrategy.TRANSCODE
    assert source.batch_duration_min == 60
    assert source.request_budget_per_minute == 300
    assert source.delete_on_completion is False
    assert source.internal_number_patterns == ()
    assert source.uses_proxy is False


@pytest.mark.parametrize("field", MANDATORY_FIELDS)
@pytest.mark.parametrize("missing", [None, "", "   "])
def test_every_mandatory_item_is_required(field: str, missing: str | None) -> None:
    error = rejection(**{field: missing}) if missing is not None else _without(field)
    assert error.field == field
    assert "mandatory" in error.reason
    assert "expected" in error.reason


def _without(field: str) -> ConfigurationError:
    items = source_items()
    del items[field]
    with pytest.raises(ConfigurationError) as caught:
        parse_import_source(items)
    return caught.value


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("name", "x" * 201, "at most 200"),
        ("name", "two\nlines", "one line"),
        ("client_id", "has space", "without spaces"),
        ("client_secret", "two\nlines", "one line"),
        ("auth_url", "http://login.usw2.pure.cloud", "not HTTPS"),
        ("auth_url", "ftp://login.usw2.pure.cloud", "https://"),
        ("auth_url", "login.usw2.pure.cloud", "https://"),
        ("auth_url", "https://user:pw@login.usw2.pure.cloud", "credentials"),
        ("auth_url", "https://login.usw2.pure.cloud/?x=1", "query"),
        ("auth_url", "https://login.usw2.pure.cloud:99999", "not a valid URL"),
        ("api_url", "https://bad_host!", "not a valid URL"),
        ("api_url", "http://10.0.0.1", "not HTTPS"),
        ("tls_certificate", "relative/cert.pem", "absolute path"),
        ("tls_certificate", "ABCD", "thumbprint"),
        ("tls_key_file", "key.pem", "absolute path"),
        ("tls_trust_list", "chain.pem", "absolute path"),
        ("proxy_address", "http://proxy.example.com", "without scheme"),
        ("proxy_address", "proxy.example.com:3128", "without scheme or port"),
        ("codec", "FLAC", "WAV, WEBM, WAV_ULAW, OGG_VORBIS, OGG_OPUS, MP3"),
        ("recording_timezone", "Mars/Olympus", "IANA time zone"),
        ("recording_timezone", "CEST", "IANA time zone"),
        ("recording_start", "yesterday", "ISO 8601"),
        ("recording_start", "2023-13-01", "ISO 8601"),
        ("recording_start", "02/02/2023", "ISO 8601"),
        ("max_recording_length_min", "-1", "from 0"),
        ("max_recording_length_min", "1.5", "whole number"),
        ("max_recording_length_min", "ten", "whole number"),
        ("max_recording_length_min", True, "whole number"),
        ("availability_delay_min", "-5", "from 0"),
        ("availability_delay_min", 2.5, "whole number"),
        ("cache_lifetime_min", "-1", "from 0"),
        ("cache_lifetime_min", "1000001", "to 1000000"),
        ("delete_on_completion", "maybe", "true or false"),
        ("fetch_strategy", "stream", "transcode, batch"),
        ("internal_number_patterns", ["^(\\d{4}$"], "regular expression"),
        ("internal_number_patterns", [42], "not text"),
        ("batch_duration_min", "0", "from 1"),
        ("batch_duration_min", "10081", "to 10080"),
        ("request_budget_per_minute", "0", "from 1"),
    ],
)
def test_a_wrong_value_is_refused_naming_the_item_and_what_it_expects(
    field: str, value: object, expected: str
) -> None:
    error = rejection(**{field: value})
    assert error.field == field
    assert expected in error.reason
    assert str(error).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"proxy_port": "0", "proxy_address": "proxy.example.com"}, "proxy_port"),
        ({"proxy_port": "65536", "proxy_address": "proxy.example.com"}, "proxy_port"),
        ({"proxy_port": "-1", "proxy_address": "proxy.example.com"}, "proxy_port"),
        ({"proxy_port": "http", "proxy_address": "proxy.example.com"}, "proxy_port"),
        ({"proxy_address": "proxy.example.com"}, "proxy_port"),
        ({"proxy_port": "3128"}, "proxy_port"),
        ({"proxy_username": "me"}, "proxy_username"),
        (
            {"proxy_address": "10.1.2.3", "proxy_port": "3128", "proxy_password": "pw"},
            "proxy_password",
        ),
        ({"tls_key_file": "/etc/ssl/key.pem"}, "tls_key_file"),
        ({"tls_certificate": "A" * 40, "tls_key_file": "/etc/ssl/key.pem"}, "tls_key_file"),
        ({"tls_key_password": "pw"}, "tls_key_password"),
    ],
)
def test_items_that_belong_together_are_checked_together(
    overrides: dict[str, str], field: str
) -> None:
    assert rejection(**overrides).field == field


@pytest.mark.parametrize("port", ["1", "3128", "65535"])
def test_proxy_ports_of_the_whole_range_are_accepted(port: str) -> None:
    source = make_source(proxy_address="proxy.example.com", proxy_port=port)
    assert source.proxy_port == int(port)
    assert source.uses_proxy


def test_a_complete_proxy_and_tls_setup_is_accepted() -> None:
    source = make_source(
        proxy_address="2001:db8::1",
        proxy_port="8080",
        proxy_username="archiver",
        proxy_password="proxy-pw",
        tls_certificate="/etc/callarchive/client.pem",
        tls_key_file="/etc/callarchive/client.key",
        tls_key_password="key-pw",
        tls_trust_list="C:\\certs\\chain.pem",
    )
    assert source.proxy_password == Secret("proxy-pw")
    assert source.tls_key_password == Secret("key-pw")


@pytest.mark.parametrize(
    "thumbprint",
    ["a" * 40, "AB:" * 19 + "CD", "0123456789abcdef" * 4],
)
def test_a_certificate_thumbprint_is_accepted(thumbprint: str) -> None:
    assert make_source(tls_certificate=thumbprint).tls_certificate == thumbprint


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8750", "http://localhost:8080", "http://[::1]:9000"]
)
def test_loopback_urls_may_use_http(url: str) -> None:
    assert make_source(auth_url=url, api_url=url).api_url == url


@pytest.mark.parametrize(
    ("stamp", "zone", "utc"),
    [
        ("2023-02-02 07:00", "America/Chicago", dt.datetime(2023, 2, 2, 13, 0, tzinfo=dt.UTC)),
        ("2023-07-01T07:00:00", "America/Chicago", dt.datetime(2023, 7, 1, 12, tzinfo=dt.UTC)),
        ("2023-07-01T07:00:00Z", "America/Chicago", dt.datetime(2023, 7, 1, 7, tzinfo=dt.UTC)),
        ("2023-07-01T07:00+02:00", "UTC", dt.datetime(2023, 7, 1, 5, tzinfo=dt.UTC)),
        ("2020", "Europe/London", dt.datetime(2020, 1, 1, 0, tzinfo=dt.UTC)),
        ("2020-07", "Europe/London", dt.datetime(2020, 6, 30, 23, tzinfo=dt.UTC)),
        ("2020-07-01", "Asia/Tokyo", dt.datetime(2020, 6, 30, 15, tzinfo=dt.UTC)),
    ],
)
def test_recording_start_is_read_in_the_recording_timezone(
    stamp: str, zone: str, utc: dt.datetime
) -> None:
    source = make_source(recording_start=stamp, recording_timezone=zone)
    assert source.recording_start == utc
    assert source.recording_start.tzinfo is dt.UTC


def test_typed_values_are_validated_like_raw_ones() -> None:
    source = make_source()
    with pytest.raises(ConfigurationError) as caught:
        dataclasses.replace(source, availability_delay_min=-1)
    assert caught.value.field == "availability_delay_min"
    naive = dt.datetime(2024, 1, 1, 6)  # noqa: DTZ001 (read in the Recording Timezone)
    changed = dataclasses.replace(source, recording_start=naive)
    assert changed.recording_start == dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)


def test_unknown_items_are_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_import_source(source_items(colour="blue"))
    assert caught.value.field == "colour"


def test_secrets_never_appear_in_repr_str_or_errors() -> None:
    source = make_source(
        proxy_address="proxy.example.com",
        proxy_port="3128",
        proxy_username="me",
        proxy_password="proxy-password-value",
    )
    assert "s3cr3t-value" not in repr(source)
    assert "proxy-password-value" not in repr(source) + str(source)
    assert source.client_secret.reveal() == "s3cr3t-value"
    error = rejection(client_secret="line\nbreak-secret")
    assert "break-secret" not in str(error)


def test_every_codec_has_its_own_file_extension() -> None:
    extensions = [codec.file_extension for codec in Codec]
    assert len(set(extensions)) == len(Codec) == 6


def test_named_tls_files_must_exist_and_be_readable(tmp_path: Any) -> None:
    certificate = tmp_path / "client.pem"
    certificate.write_text("-----BEGIN CERTIFICATE-----\n")
    check_files(make_source(tls_certificate=str(certificate)))
    check_files(make_source(tls_certificate="a" * 40))
    with pytest.raises(ConfigurationError) as caught:
        check_files(make_source(tls_trust_list=str(tmp_path / "missing.pem")))
    assert caught.value.field == "tls_trust_list"
