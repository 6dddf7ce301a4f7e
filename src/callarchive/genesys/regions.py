"""Genesys Cloud regions: the login (Authentication URL) and API hosts of each.

From the official SDK's region enum; used to validate import sources and in help texts. A host
not in the table is allowed (Genesys adds regions) but `check_urls` reports it as unknown.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from callarchive.errors import ConfigurationError


@dataclass(frozen=True, kw_only=True, slots=True)
class Region:
    name: str
    description: str
    domain: str

    @property
    def api_url(self) -> str:
        return f"https://api.{self.domain}"

    @property
    def auth_url(self) -> str:
        return f"https://login.{self.domain}"


REGIONS: tuple[Region, ...] = tuple(
    Region(name=n, description=d, domain=h)
    for n, d, h in (
        ("us_east_1", "Americas (US East)", "mypurecloud.com"),
        ("us_east_2", "Americas (US East 2, FedRAMP)", "use2.us-gov-pure.cloud"),
        ("us_west_2", "Americas (US West)", "usw2.pure.cloud"),
        ("ca_central_1", "Americas (Canada)", "cac1.pure.cloud"),
        ("sa_east_1", "Americas (São Paulo)", "sae1.pure.cloud"),
        ("mx_central_1", "Americas (Mexico)", "mxc1.pure.cloud"),
        ("eu_west_1", "EMEA (Dublin)", "mypurecloud.ie"),
        ("eu_west_2", "EMEA (London)", "euw2.pure.cloud"),
        ("eu_central_1", "EMEA (Frankfurt)", "mypurecloud.de"),
        ("eu_central_2", "EMEA (Zurich)", "euc2.pure.cloud"),
        ("me_central_1", "EMEA (UAE)", "mec1.pure.cloud"),
        ("ap_south_1", "Asia Pacific (Mumbai)", "aps1.pure.cloud"),
        ("ap_southeast_1", "Asia Pacific (Singapore)", "apse1.pure.cloud"),
        ("ap_southeast_2", "Asia Pacific (Sydney)", "mypurecloud.com.au"),
        ("ap_northeast_1", "Asia Pacific (Tokyo)", "mypurecloud.jp"),
        ("ap_northeast_2", "Asia Pacific (Seoul)", "apne2.pure.cloud"),
        ("ap_northeast_3", "Asia Pacific (Osaka)", "apne3.pure.cloud"),
    )
)


def region_of(url: str) -> Region | None:
    """The region whose login or API host `url` names."""
    host = (urlsplit(url).hostname or "").lower()
    for region in REGIONS:
        if host in (f"api.{region.domain}", f"login.{region.domain}"):
            return region
    return None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, field: str) -> str:
    """`url` without a trailing slash; https required except on loopback hosts."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigurationError(
            f"expected an https URL such as https://api.mypurecloud.com, got {url!r}", field=field
        )
    if parts.scheme == "http" and not is_loopback(host):
        raise ConfigurationError(
            f"must use https (http is allowed only for loopback hosts), got {url!r}", field=field
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(f"must not carry a query or fragment, got {url!r}", field=field)
    return url.strip().rstrip("/")


def check_urls(auth_url: str, api_url: str) -> list[str]:
    """Validate both URLs; return warnings (unknown region, login and API in different regions)."""
    auth = check_url(auth_url, field="auth_url")
    api = check_url(api_url, field="api_url")
    warnings = []
    auth_region, api_region = region_of(auth), region_of(api)
    local = is_loopback(urlsplit(api).hostname or "")
    if not local and api_region is None:
        warnings.append(f"api_url {api} is not a known Genesys Cloud API host")
    if not local and auth_region is None:
        warnings.append(f"auth_url {auth} is not a known Genesys Cloud login host")
    if auth_region and api_region and auth_region != api_region:
        warnings.append(
            f"auth_url is in region {auth_region.name} but api_url in {api_region.name}: "
            "tokens are valid only in their own region"
        )
    return warnings
