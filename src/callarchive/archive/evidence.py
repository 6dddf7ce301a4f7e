"""Evidence for regulators: a set of conversations as one zip that another installation (or
anyone with the public key) can check without the archive's database.

    media/<archive id>/<recording id>.<codec>   each recording, streamed from the media store
    metadata.json                               the export records (DESIGN.md section 5) and ids
    metadata.csv                                the same, one row per conversation
    seals.json                                  every seal of the conversations, each with the
                                                link before it in its chain
    public-key.pem                              the installation's Ed25519 public key (signing)
    verification-report.txt                     the installation's verification at export time

`verify_export` checks a zip with the public key inside (and, given, the fingerprint the
regulator expects): every seal is the sha256 of its document, its link follows from the one
before it and is signed; each conversation's metadata matches its latest seal; each media file's
sha256 is the sealed one (read as a stream). Seals signed before a key rotation name a retired
key: `seals.json` carries each retired key with its endorsement by the key of `public-key.pem`,
so the one fingerprint the regulator was given vouches for them all.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from callarchive.archive.conversations import Conversation, export_record
from callarchive.archive.objects import ObjectStore
from callarchive.archive.repository import Archive
from callarchive.archive.seals import (
    MediaReader,
    Problem,
    ProblemKind,
    SealOrigin,
    Signed,
    Verification,
    next_link,
    seal_message,
    sha256_hex,
)
from callarchive.errors import ConfigurationError
from callarchive.secrets import SealVerifier
from callarchive.signing import SealKeyring, endorsement_message

PUBLIC_KEY = "public-key.pem"
_CHUNK = 1 << 20
# Export keys (section 5) → the sealed document's names, compared by `verify_export`.
_SEALED_AS = {
    "duration": "duration_s",
    "user": "user_name",
    "from": "from_number",
    "to": "to_number",
    "direction": "direction",
    "platform_call_id": "platform_call_id",
    "user_id": "agent_id",
    "dialed_number": "dialed_number",
    "end_cause": "end_cause",
}


def media_name(conversation_id: int, recording_id: str, codec: str) -> str:
    """The path of a recording inside the zip."""
    return f"media/{conversation_id}/{recording_id}.{codec}"


async def write_export(
    archive: Archive,
    conversation_ids: Sequence[int],
    store: ObjectStore,
    out: Path,
    *,
    media: MediaReader | None = None,
) -> Verification:
    """Write the zip of these conversations to `out`; the verification it carries.

    Media is streamed from `store` into the zip (stored, not compressed: audio codecs compress
    already); memory does not grow with the recordings' sizes.
    """
    ids = sorted(set(conversation_ids))
    zones: dict[int, ZoneInfo] = {}
    records: list[dict[str, Any]] = []
    verification = await archive.seals.verify(conversation_ids=ids, media=media)
    seals = await archive.seals.of_conversations(ids)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zipped:
        for conversation_id in ids:
            conversation = await archive.conversations.get(conversation_id)
            if conversation is None:
                continue
            records.append(await _record(archive, conversation, zones))
            for recording in conversation.recordings:
                name = media_name(conversation_id, recording.recording_id, recording.codec.value)
                info = zipfile.ZipInfo(name)
                info.compress_type = zipfile.ZIP_STORED
                with zipped.open(info, "w", force_zip64=True) as target:
                    async for chunk in await store.read(recording.object_key):
                        target.write(chunk)
        zipped.writestr("metadata.json", json.dumps(records, indent=1, ensure_ascii=False))
        zipped.writestr("metadata.csv", _csv(records))
        zipped.writestr(
            "seals.json",
            json.dumps(
                {
                    "public_key_fingerprint": archive.seals.verifier.fingerprint,
                    "retired_keys": _retired_keys(archive.seals.keyring),
                    "seals": seals,
                },
                indent=1,
                ensure_ascii=False,
            ),
        )
        zipped.writestr(PUBLIC_KEY, archive.seals.verifier.public_pem)
        zipped.writestr(
            "verification-report.txt",
            f"public key {archive.seals.verifier.fingerprint}\n" + verification.report(),
        )
    return verification


async def _record(
    archive: Archive, conversation: Conversation, zones: dict[int, ZoneInfo]
) -> dict[str, Any]:
    source_id = conversation.import_source_id
    if source_id not in zones:
        source = await archive.import_sources.get_by_id(source_id)
        zones[source_id] = ZoneInfo(source.recording_timezone)
    return {
        "conversation_id": conversation.id,
        "genesys_conversation_id": conversation.genesys_id,
        "start_utc": conversation.start.isoformat(),
        **export_record(conversation, zones[source_id]),
    }


def _csv(records: list[dict[str, Any]]) -> str:
    if not records:
        return ""
    columns = [name for name in records[0] if name != "recordings"] + ["recordings"]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for record in records:
        recordings = ";".join(
            f"{r['recording_id']}/{r['codec']}/{r['size']}/{r['sha256']}"
            for r in record["recordings"]
        )
        writer.writerow({**record, "recordings": recordings})
    return text.getvalue()


def verify_export(path: Path, *, expected_fingerprint: str | None = None) -> Verification:
    """Check an export zip with the public key inside it (see the module's docstring)."""
    problems: list[Problem] = []
    notes: list[str] = []
    try:
        zipped = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise ConfigurationError(
            f"{path} is not a readable zip ({error})", field="export"
        ) from None
    with zipped:
        names = set(zipped.namelist())
        for required in ("metadata.json", "seals.json", PUBLIC_KEY):
            if required not in names:
                raise ConfigurationError(
                    f"{path} has no {required}: not a callarchive export", field="export"
                )
        verifier = SealVerifier.from_pem(zipped.read(PUBLIC_KEY))
        notes.append(f"public key {verifier.fingerprint}")
        if expected_fingerprint is not None and not _same_fingerprint(
            expected_fingerprint, verifier.fingerprint
        ):
            problems.append(
                Problem(
                    kind=ProblemKind.SIGNATURE_INVALID,
                    subject="export",
                    message=f"its public key is {verifier.fingerprint}, expected "
                    f"{expected_fingerprint}",
                )
            )
        sealed: dict[str, Any] = json.loads(zipped.read("seals.json"))
        seals: list[dict[str, Any]] = sealed["seals"]
        keys, endorsed = _endorsed_keys(verifier, sealed.get("retired_keys", []))
        problems += endorsed
        latest: dict[int, dict[str, Any]] = {}
        for seal in seals:
            problems += _check_seal(seal, keys)
            latest[seal["conversation_id"]] = seal
        records: list[dict[str, Any]] = json.loads(zipped.read("metadata.json"))
        read = 0
        for record in records:
            found, count = _check_record(
                zipped, names, record, latest.get(record["conversation_id"])
            )
            problems += found
            read += count
    return Verification(
        conversations=len(records),
        seals=len(seals),
        chains=tuple(sorted({seal["day"] for seal in seals})),
        recordings_read=read,
        notes=tuple(notes),
        problems=tuple(problems),
    )


def _same_fingerprint(expected: str, actual: str) -> bool:
    def bare(value: str) -> str:
        return value.strip().lower().removeprefix("sha256:").replace(":", "")

    return bare(expected) == bare(actual)


def _retired_keys(keyring: SealKeyring) -> list[dict[str, Any]]:
    return [
        {
            "key_id": key.verifier.key_id,
            "fingerprint": key.verifier.fingerprint,
            "public_pem": key.verifier.public_pem.decode("ascii"),
            "retired_at": key.retired_at.isoformat(),
            "endorsement": key.endorsement,
        }
        for key in keyring.retired
    ]


def _endorsed_keys(
    verifier: SealVerifier, retired: list[dict[str, Any]]
) -> tuple[dict[str, SealVerifier], list[Problem]]:
    """The export's key and each retired key it endorses, by key id; a retired key it does not
    endorse is a problem (and verifies nothing)."""
    keys = {verifier.key_id: verifier}
    problems: list[Problem] = []
    for entry in retired:
        key = SealVerifier.from_pem(entry["public_pem"].encode("ascii"))
        message = endorsement_message(key, dt.datetime.fromisoformat(entry["retired_at"]))
        if verifier.verify(entry["endorsement"], message):
            keys[key.key_id] = key
        else:
            problems.append(
                Problem(
                    kind=ProblemKind.SIGNATURE_INVALID,
                    subject=f"key:{key.key_id}",
                    message="a retired key the export carries is not endorsed by its key",
                )
            )
    return keys, problems


def _check_seal(seal: dict[str, Any], keys: dict[str, SealVerifier]) -> list[Problem]:
    subject = f"conversation:{seal['conversation_id']}"
    where = f"seal {seal['position']} of {seal['day']}"
    if sha256_hex(seal["document"].encode()) != seal["seal"]:
        return [
            Problem(
                kind=ProblemKind.SEAL_CHANGED,
                subject=subject,
                message=f"{where} is not the sha256 of its document",
            )
        ]
    if next_link(seal["previous"], seal["seal"]) != seal["link"]:
        return [
            Problem(
                kind=ProblemKind.CHAIN_BROKEN,
                subject=subject,
                message=f"the link of {where} does not follow from the previous one",
            )
        ]
    signed = (
        None
        if seal.get("key_id") is None
        else Signed(
            origin=seal.get("origin") or SealOrigin.IMPORT,
            sealed_at=dt.datetime.fromisoformat(seal["sealed_at"]),
            key_id=seal["key_id"],
        )
    )
    message = seal_message(
        seal["day"], seal["position"], subject, seal["seal"], seal["link"], signed
    )
    key_id = seal.get("key_id")
    candidates = list(keys.values()) if key_id is None else [keys[key_id]] if key_id in keys else []
    if not candidates:
        return [
            Problem(
                kind=ProblemKind.UNKNOWN_KEY,
                subject=subject,
                message=f"{where} is signed by key {key_id}, which the export does not carry",
            )
        ]
    if not any(key.verify(seal["signature"], message) for key in candidates):
        return [
            Problem(
                kind=ProblemKind.SIGNATURE_INVALID,
                subject=subject,
                message=f"{where} is not signed by the export's key",
            )
        ]
    return []


def _check_record(
    zipped: zipfile.ZipFile,
    names: set[str],
    record: dict[str, Any],
    seal: dict[str, Any] | None,
) -> tuple[list[Problem], int]:
    conversation_id = record["conversation_id"]
    subject = f"conversation:{conversation_id}"
    if seal is None:
        return [Problem(kind=ProblemKind.NOT_SEALED, subject=subject, message="has no seal")], 0
    document: dict[str, Any] = json.loads(seal["document"])
    problems: list[Problem] = []
    changed = [key for key, sealed in _SEALED_AS.items() if record.get(key) != document.get(sealed)]
    exported = sorted(
        (r["recording_id"], r["codec"], r["size"], r["sha256"]) for r in record["recordings"]
    )
    sealed_recordings = sorted(
        (r["recording_id"], r["codec"], r["size"], r["sha256"]) for r in document["recordings"]
    )
    if exported != sealed_recordings:
        changed.append("recordings")
    if changed:
        problems.append(
            Problem(
                kind=ProblemKind.METADATA_CHANGED,
                subject=subject,
                message=f"{', '.join(changed)} differ from the seal",
            )
        )
    read = 0
    for recording in document["recordings"]:
        name = media_name(conversation_id, recording["recording_id"], recording["codec"])
        if name not in names:
            problems.append(
                Problem(kind=ProblemKind.MEDIA_MISSING, subject=subject, message=f"no {name}")
            )
            continue
        digest = hashlib.sha256()
        with zipped.open(name) as source:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
        read += 1
        if digest.hexdigest() != recording["sha256"]:
            problems.append(
                Problem(
                    kind=ProblemKind.MEDIA_CHANGED,
                    subject=subject,
                    message=f"{name}: sha256 {digest.hexdigest()}, sealed {recording['sha256']}",
                )
            )
    return problems, read


__all__ = ["PUBLIC_KEY", "media_name", "verify_export", "write_export"]
