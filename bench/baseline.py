"""The usual way of doing the job: the flow of Genesys's recordings-downloader tutorial.

    .venv/bin/python bench/baseline.py --base-url URL --client-id ID --client-secret SECRET \
        --start ISO --end ISO --out FOLDER

The tutorial (developer.genesys.cloud, "Download Recordings"; MyPureCloud/developercenter-tutorials
`recordings-downloader`) queries conversation details for an interval, asks each conversation's
`recordingmetadata`, submits batch downloads, polls each job every 5 seconds until its result
count reaches the expected count, and downloads every result URL to a file. This is that flow,
sequential, with two kindnesses the tutorial lacks so that it can finish at all: a 429 is retried
after its `Retry-After` seconds (the tutorial stops at the first one), and batch requests hold up
to 100 recordings (the tutorial sends one per request). It is also given the importer's
voice-with-recording query filter, so it does not pay for chats and unrecorded calls. It prints
one JSON line: conversations with media downloaded, files, bytes, 429s received.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import httpx

BATCH = 100
POLL_S = 5.0
VOICE_WITH_RECORDING = [
    {
        "type": "and",
        "predicates": [
            {
                "type": "dimension",
                "dimension": "mediaType",
                "operator": "matches",
                "value": "voice",
            },
            {"type": "dimension", "dimension": "recording", "operator": "exists"},
        ],
    }
]


class Api:
    """A bearer-token session that waits out 429s (Retry-After) and counts them."""

    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=120)
        token = self.http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, client_secret),
        )
        token.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        self.rate_limited = 0

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        while True:
            response = self.http.request(method, path, **kwargs)
            if response.status_code == 429:
                self.rate_limited += 1
                time.sleep(float(response.headers.get("retry-after", "3")))
                continue
            response.raise_for_status()
            return response.json()


def conversations(api: Api, start: dt.datetime, end: dt.datetime) -> list[str]:
    """Ids of the conversations that started in [start, end), from the details query."""
    interval = f"{_iso(start)}/{_iso(end)}"
    found: list[str] = []
    number = 1
    while True:
        page = api.call(
            "POST",
            "/api/v2/analytics/conversations/details/query",
            json={
                "interval": interval,
                "order": "asc",
                "orderBy": "conversationStart",
                "segmentFilters": VOICE_WITH_RECORDING,
                "paging": {"pageSize": 100, "pageNumber": number},
            },
        )
        for conversation in page.get("conversations", []):
            began = dt.datetime.fromisoformat(conversation["conversationStart"])
            if start <= began < end:
                found.append(conversation["conversationId"])
        if not page.get("conversations") or number * 100 >= page.get("totalHits", 0):
            return found
        number += 1


def download_all(api: Api, ids: list[str], out: Path) -> dict[str, int]:
    """Metadata per conversation, then batches of up to 100 recordings, polled, downloaded."""
    items = []
    for conversation_id in ids:
        metadata = api.call("GET", f"/api/v2/conversations/{conversation_id}/recordingmetadata")
        items += [{"conversationId": conversation_id, "recordingId": r["id"]} for r in metadata]
    files = size = 0
    done: set[str] = set()
    with httpx.Client(timeout=600) as media:
        for first in range(0, len(items), BATCH):
            chunk = items[first : first + BATCH]
            job = api.call(
                "POST", "/api/v2/recording/batchrequests", json={"batchDownloadRequestList": chunk}
            )
            while True:
                status = api.call("GET", f"/api/v2/recording/batchrequests/{job['id']}")
                if status["expectedResultCount"] == status["resultCount"]:
                    break
                time.sleep(POLL_S)
            for result in status.get("results", []):
                if not result.get("resultUrl"):
                    continue
                name = f"{result['conversationId']}_{result['recordingId']}.wav"
                with (
                    media.stream("GET", result["resultUrl"]) as response,
                    (out / name).open("wb") as file,
                ):
                    for chunk_bytes in response.iter_raw():
                        file.write(chunk_bytes)
                        size += len(chunk_bytes)
                files += 1
                done.add(result["conversationId"])
    return {"conversations": len(done), "files": files, "bytes": size}


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--start", required=True, type=dt.datetime.fromisoformat)
    parser.add_argument("--end", required=True, type=dt.datetime.fromisoformat)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    api = Api(args.base_url, args.client_id, args.client_secret)
    ids = conversations(api, args.start, args.end)
    result = download_all(api, ids, args.out)
    print(json.dumps({**result, "discovered": len(ids), "http_429": api.rate_limited}))


if __name__ == "__main__":
    main()
