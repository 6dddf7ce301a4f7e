"""The configuration forms' fields: label, help text and kind of input, in the seed's order.

Labels and help texts are the seed's own ("Configuration Item | Description" of its import
source and policy tables), so the screens read like the documentation administrators follow;
items the seed does not have say what they are in the same voice. The REST API uses the same
texts as its schema descriptions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from callarchive.configuration import FIELDS, Codec, FetchStrategy


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class FormField:
    """One input of a configuration form."""

    name: str
    label: str
    help: str
    kind: str = "text"  # text, secret, number, choice, checkbox, lines, zone
    choices: tuple[str, ...] = ()
    mandatory: bool = False


SOURCE_HELP: Mapping[str, str] = {
    "name": "Name your Import Source. This name identifies the source across the system.",
    "client_id": "Mandatory value copied from the Genesys Cloud OAuth Integration.",
    "client_secret": "Mandatory value copied from the Genesys Cloud OAuth Integration.",
    "auth_url": (
        "Mandatory Genesys URL used when the Import Source obtains the Access Token, for "
        "example: https://login.usw2.pure.cloud. Full list available at: "
        "https://developer.genesys.cloud/platform/api/ under Auth Server. Customer firewall "
        "team must enable access to this URL and port 443 from the VFC server or using the "
        "Proxy if required."
    ),
    "api_url": (
        "Mandatory Genesys URL used when the Import Source interacts with the Genesys API to "
        "obtain user information. For example: https://api.usw2.pure.cloud Full list available "
        "at: https://developer.genesys.cloud/platform/api/ under API Server. Customer firewall "
        "team must enable access to this URL and port 443 from the VFC server or using the "
        "Proxy if required."
    ),
    "tls_certificate": (
        "Optional certificate file / certificate thumbprint used for the Genesys Cloud "
        "connection. If not configured, the server certificate is used. For more information, "
        "see Server Certificates."
    ),
    "tls_key_file": "Optional file system location where the certificate key is stored.",
    "tls_key_password": "Specify the password for the file that contains the certificate keys.",
    "tls_trust_list": (
        "Certificate chain (or Chain of Trust) consists of a list of certificates that start "
        "from a server's certificate and terminate with the root certificate. If the "
        "certificate of your server is to be trusted, its signature has to be traceable back "
        "to its root CA."
    ),
    "proxy_address": (
        "Optional. IP address or FQDN of the forward proxy. When defined, the system connects "
        "through a forward proxy."
    ),
    "proxy_port": "Optional. The port of the forward proxy.",
    "proxy_username": (
        "Optional. User name for basic authentication for the forward proxy server."
    ),
    "proxy_password": "Optional. Password for basic authentication for the forward proxy server.",
    "codec": (
        "Mandatory codec selection. Genesys transcodes to the specified codec before "
        "delivering audio to the Import Source."
    ),
    "recording_timezone": (
        "Mandatory Import Source timezone as all Genesys times are in UTC. This value ensures "
        "recordings are presented with the correct time."
    ),
    "recording_start": (
        "Mandatory. Time stamp of the earliest Genesys content to be ingested. This value can "
        "be a time stamp in the past, for example, 2020, if historic Genesys content has to be "
        "ingested. The Import Source gradually catches up with real-time as it is run by "
        "successive Data Management Policies, but takes longer to catch up depending on the "
        "number of historic recordings, the Maximum Recording Length and Availability Delay. "
        "In the case of mass historical ingest, it is recommended to set the Maximum Recording "
        "Length to a large number, for example, 999 and reduce the Availability Delay to a "
        "small number, for example, 10 minutes. Once the ingestion has caught up, adjust each "
        "of these parameters to their correct operational values."
    ),
    "max_recording_length_min": (
        "Mandatory. Maximum length of Genesys content to be ingested. Content exceeding the "
        "maximum length may not be ingested or an alert generated."
    ),
    "availability_delay_min": (
        "Mandatory. Maximum time the import source waits for Genesys content to become "
        "available for ingestion. If the content is not available after this time, it may not "
        "be ingested or an alert generated."
    ),
    "cache_lifetime_min": (
        "Mandatory time to store Genesys user information for performance reasons within the "
        "Import Source before it is automatically refreshed."
    ),
    "delete_on_completion": (
        "Optional to make VFC the single recording source for search, replay, archive, and "
        "analysis."
    ),
    "fetch_strategy": (
        "How media is fetched: 'transcode' asks Genesys for each conversation's recordings in "
        "the codec above (the seed's way); 'batch' uses batch download requests in the "
        "original codec and transcodes here when needed."
    ),
    "internal_number_patterns": (
        "Regular expressions, one per line, matching the organisation's own numbers and "
        r"domains, e.g. ^\+1312555\d{4}$. The Direction field needs them."
    ),
    "batch_duration_min": (
        "Length of the time window one import run covers while catching up (1 to 10080)."
    ),
    "request_budget_per_minute": (
        "Genesys API requests this import source may make per minute, shared by its runs."
    ),
}
SOURCE_TYPE_HELP = "Select Genesys Cloud Import Source."
_SOURCE_KINDS = {
    "client_secret": "secret",
    "tls_key_password": "secret",
    "proxy_password": "secret",
    "proxy_port": "number",
    "codec": "choice",
    "fetch_strategy": "choice",
    "recording_timezone": "zone",
    "max_recording_length_min": "number",
    "availability_delay_min": "number",
    "cache_lifetime_min": "number",
    "batch_duration_min": "number",
    "request_budget_per_minute": "number",
    "delete_on_completion": "checkbox",
    "internal_number_patterns": "lines",
}
_CHOICES = {
    "codec": tuple(c.value for c in Codec),
    "fetch_strategy": tuple(s.value for s in FetchStrategy),
}
_MANDATORY = {
    "name",
    "client_id",
    "client_secret",
    "auth_url",
    "api_url",
    "codec",
    "recording_timezone",
    "recording_start",
    "max_recording_length_min",
    "availability_delay_min",
    "cache_lifetime_min",
}

SOURCE_FORM: tuple[FormField, ...] = tuple(
    FormField(
        name=name,
        label=label,
        help=SOURCE_HELP[name],
        kind=_SOURCE_KINDS.get(name, "text"),
        choices=_CHOICES.get(name, ()),
        mandatory=name in _MANDATORY,
    )
    for name, label in FIELDS.items()
)

POLICY_HELP: Mapping[str, str] = {
    "name": "Name your Data Management Policy.",
    "action": "Data Import: imports from the import sources below.",
    "import_sources": (
        "Under Available Import Sources, select the Import Source that you created. A run "
        "imports from each selected source in turn."
    ),
    "enable_recording_rules": (
        "Specifies if all data should be processed in the imported data set or just the "
        "records of the recorded users as configured in VFC. Currently this setting is "
        "mandatory switched on (checked)."
    ),
    "servers": "If enabled, a specific server can be chosen that runs this policy",
    "every_minutes": "Start a run every this many minutes (1 to 10080).",
    "cron": "Or start runs at the times of a five-field cron expression, e.g. 0 8-18 * * 1-5.",
    "active_hours": "Optional: start runs only between these times of day (e.g. 08:00-18:00).",
    "schedule_timezone": "The time zone the cron expression and the active hours are read in.",
    "enabled": "A disabled policy starts no runs; a running run finishes its window.",
}

USER_HELP: Mapping[str, str] = {
    "login": "What the user signs in with; no spaces, e.g. jane.doe@example.com.",
    "name": "The name shown in the User metadata field and on every page.",
    "role": (
        "agent: own recordings; supervisor: also those of everyone below in the hierarchy; "
        "compliance officer: every recording; administrator: every recording and the "
        "configuration."
    ),
    "supervisor": "The user's place in the agent hierarchy: the supervisor sees their recordings.",
    "partitions": (
        "Comma-separated partitions: the user also sees recordings tagged with one of them."
    ),
    "recorded": "Import the conversations of this user's extensions (the recording rules).",
    "time_zone": "The time zone this user's pages show times in.",
    "password": "Set a new password (at least 12 characters); leave empty to keep the current one.",
}

EXTENSION_HELP: Mapping[str, str] = {
    "type": "Number: a phone number or extension. Address: an address such as a SIP URI.",
    "value": "The user's actual extension number or address.",
    "user": "Who owns the extension in this period.",
    "valid_from": "Optional: from when (your time zone); empty means always.",
    "valid_to": "Optional: until when (exclusive); empty means open-ended.",
}

__all__ = [
    "EXTENSION_HELP",
    "POLICY_HELP",
    "SOURCE_FORM",
    "SOURCE_HELP",
    "SOURCE_TYPE_HELP",
    "USER_HELP",
    "FormField",
]
