"""Import benchmarks: callarchive against the Genesys API budget and against the usual way.

    .venv/bin/python bench/importer.py throughput [--n 2000] [--quick] [--bandwidth-kbps K]
    .venv/bin/python bench/importer.py catchup [--n 50000]
    .venv/bin/python bench/importer.py memory

`throughput` imports the same N conversations (calls of 1 to 10 minutes, mean 4) with each
strategy, with and without On Completion Delete, each against a fresh emulator with Genesys's
conditions (40 ms per API call, 300 requests a minute per token), then runs the baseline
(`bench/baseline.py`, the recordings-downloader tutorial's flow) over the same conversations.
`catchup` imports about N conversations of short calls from a Recording Start Timestamp 40 days
back, in windows of 7 days (those older than the details query's reach through the async details
jobs, the rest through the query). `memory` imports one 4-hour
recording with each strategy, then a batch of 500 conversations, for peak memory.

Per run: conversations per minute, API calls per conversation by endpoint (`/_emulator/stats`),
429s, the importer's peak RSS and CPU seconds per conversation (`os.wait4` of its process), the
bound (the rate the 300/min budget allows at the strategy's minimal calls per conversation) and
our share of it, and the p95 latency of the web API's conversation search and status while the
import runs (`callarchive serve` beside it). Results: JSON on standard output and in
`.bench/<scenario>.json`, tables in `.bench/<scenario>.md`.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo.configuration import configuration_for

from processes import (
    CLIENT_ID,
    CLIENT_SECRET,
    PYTHON,
    ROOT,
    Installation,
    Measured,
    Probe,
    Sampler,
    emulator,
    measured,
    served,
)

WORK = ROOT / ".bench"
BUDGET = 300  # requests a minute per token: Genesys's default, the emulator's and ours
POLICY = "Genesys import"
CODEC = "WAV_ULAW"  # G.711 mu-law: the trunk's codec, so `batch` stores Genesys's bytes as is
# Calls the API needs per conversation at least, beside media: one recordings list per
# conversation (transcode) or one submit and one status read per 100 (batch), plus a details
# query page per 100 conversations (or a job results page per 1,000).
MEDIA_CALLS = {"transcode": 1.0, "batch": 2 / 100, "baseline": 1.0 + 2 / 100}
DISCOVERY_CALLS = {"query": 1 / 100, "jobs": 1 / 1000}
DELETE_ENDPOINTS = (
    "PUT /api/v2/conversations/{conversationId}/recordings/{recordingId}",  # deleteDate
    "POST /api/v2/recordings/deletionprotection",  # which conversations Genesys protects
)
NOT_API = ("GET /media", "POST /oauth/token")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Org:
    """The emulated org's traffic: what `genesys_emulator` generates from its flags."""

    seed: int
    start: dt.date
    days: int
    calls_per_hour: float
    mean_call_seconds: float = 240
    min_call_seconds: float = 60
    max_call_seconds: float = 600
    users: int = 60

    def flags(self, cache: Path, **conditions: int) -> list[str]:
        flags = [
            f"--seed={self.seed}",
            f"--start={self.start.isoformat()}",
            f"--days={self.days}",
            f"--calls-per-hour={self.calls_per_hour}",
            f"--mean-call-seconds={self.mean_call_seconds}",
            f"--min-call-seconds={self.min_call_seconds}",
            f"--max-call-seconds={self.max_call_seconds}",
            "--long-call-ratio=0",
            f"--users={self.users}",
            f"--trunk-codec={CODEC}",
            f"--cache-dir={cache}",
        ]
        return flags + [f"--{k.replace('_', '-')}={v}" for k, v in conditions.items()]


def realistic(bandwidth_kbps: int) -> dict[str, int]:
    """Genesys's conditions: 40 ms per API call, 300 requests a minute per token."""
    conditions = {"latency_ms": 40, "rate_limit_per_minute": BUDGET}
    if bandwidth_kbps:
        conditions["media_bandwidth_kbps"] = bandwidth_kbps
    return conditions


def media_cache(org: Org) -> Path:
    """Encoded media, kept between invocations (same seed and start, same bytes)."""
    return WORK / "emulator-media" / f"seed{org.seed}-{org.start.isoformat()}"


# -- choosing exactly N conversations ----------------------------------------------------------


def importable(truth: dict[str, Any]) -> list[dict[str, Any]]:
    """Conversations an importer with every agent recorded archives, in start order."""
    found = [
        c
        for c in truth["conversations"]
        if c["voice"] and c["recorded"] and c["ended"] and c["agents"] and c["recordings"]
    ]
    return sorted(found, key=lambda c: (c["start"], c["conversation_id"]))


def prepare(org: Org, n: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ground truth and the last N importable conversations, their media encoded."""
    with emulator(org.flags(media_cache(org), rate_limit_per_minute=0)) as prep:
        truth = prep.ground_truth(formats="none")
        chosen = importable(truth)[-n:]
        if len(chosen) < n:
            raise SystemExit(f"the org has {len(chosen)} importable conversations, not {n}")
        prep.prewarm(_slices(chosen, 16), CODEC)
    return truth, chosen


def _slices(chosen: Sequence[dict[str, Any]], parts: int) -> list[tuple[str, str]]:
    size = math.ceil(len(chosen) / parts)
    edges = [chosen[i]["start"] for i in range(0, len(chosen), size)]
    end = (dt.datetime.fromisoformat(chosen[-1]["start"]) + dt.timedelta(seconds=1)).isoformat()
    return list(zip(edges, [*edges[1:], end], strict=True))


def document(
    truth: dict[str, Any],
    base_url: str,
    *,
    recording_start: str,
    strategy: str,
    delete: bool,
    batch_duration_min: int,
) -> dict[str, Any]:
    """The configuration: every agent recorded; the policy disabled so that `serve` (run
    beside the import for the probe) schedules nothing of its own."""
    config = configuration_for(
        truth,
        base_url=base_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        recording_start=recording_start,
        codec=CODEC,
        timezone="Europe/London",
        fetch_strategy=strategy,
        delete_on_completion=delete,
        max_recording_length_min=15,
        availability_delay_min=2,
        batch_duration_min=batch_duration_min,
    )
    for policy in config["policies"]:
        policy["enabled"] = False
    return config


# -- one run -------------------------------------------------------------------------------


_COUNTS = re.compile(
    r"imported (\d+), already imported (\d+), skipped by rules (\d+), retry buffer (\d+), "
    r"failed (\d+)"
)


def outcomes(stdout: str) -> dict[str, int]:
    """Totals of the run summaries `callarchive import run` prints, one per window."""
    names = ("imported", "already_imported", "skipped_by_rules", "retry_buffer", "failed")
    totals = dict.fromkeys(names, 0)
    for match in _COUNTS.finditer(stdout):
        for name, value in zip(names, match.groups(), strict=True):
            totals[name] += int(value)
    return totals


def api_calls(stats: dict[str, Any]) -> dict[str, int]:
    """Requests by endpoint, API only (media downloads and token requests apart)."""
    return {e: n for e, n in stats["by_endpoint"].items() if e not in NOT_API}


def run_import(
    label: str,
    org: Org,
    truth: dict[str, Any],
    recording_start: str,
    *,
    strategy: str,
    delete: bool,
    conditions: dict[str, int],
    batch_duration_min: int,
    discovery: str = "query",
    probe: bool = True,
) -> dict[str, Any]:
    """One import against a fresh emulator, measured."""
    with (
        emulator(org.flags(media_cache(org), **conditions)) as genesys,
        tempfile.TemporaryDirectory(prefix="bench-home-", dir=WORK) as home,
    ):
        installation = Installation(Path(home))
        installation.configure(
            document(
                truth,
                genesys.url,
                recording_start=recording_start,
                strategy=strategy,
                delete=delete,
                batch_duration_min=batch_duration_min,
            )
        )
        genesys.control("DELETE", "stats")
        command = installation.command("import", "run", "--policy", POLICY, "--until-caught-up")
        sampler = Sampler(genesys)
        if probe:
            result, latency = _with_probe(installation, command)
        else:
            result, latency = measured(command, installation.env), {}
        sampler.stop()
        stats = genesys.stats()
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
    counts = outcomes(result.stdout)
    return summarise(
        label,
        strategy=strategy,
        delete=delete,
        discovery=discovery,
        result=result,
        archived=counts["imported"],
        stats=stats,
        latency=latency,
        extra={
            "outcomes": counts,
            "returncode": result.returncode,
            "timeline": sampler.timeline(),
        },
        steady_media_per_minute=sampler.steady_media_per_minute(),
    )


def _with_probe(installation: Installation, command: list[str]) -> tuple[Measured, Any]:
    """Run the import with `serve` beside it, asking search and status twice a second."""
    key = installation.api_key()
    with served(installation) as url:
        idle = Probe(url, key)
        idle.sample(20)
        busy = Probe(url, key)
        busy.start()
        try:
            result = measured(command, installation.env)
        finally:
            busy.stop()
    return result, {"idle": idle.summary(), "importing": busy.summary()}


def run_baseline(
    org: Org, chosen: Sequence[dict[str, Any]], conditions: dict[str, int]
) -> dict[str, Any]:
    end = dt.datetime.fromisoformat(chosen[-1]["start"]) + dt.timedelta(milliseconds=1)
    with (
        emulator(org.flags(media_cache(org), **conditions)) as genesys,
        tempfile.TemporaryDirectory(prefix="bench-baseline-", dir=WORK) as out,
    ):
        genesys.control("DELETE", "stats")
        sampler = Sampler(genesys)
        result = measured(
            [PYTHON, str(ROOT / "bench" / "baseline.py"), "--base-url", genesys.url,
             "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
             "--start", chosen[0]["start"], "--end", end.isoformat(), "--out", out],
            env=dict(os.environ),
        )  # fmt: skip
        sampler.stop()
        stats = genesys.stats()
    if result.returncode != 0:
        raise SystemExit(f"the baseline failed:\n{result.stderr[-3000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return summarise(
        "baseline (tutorial flow)",
        strategy="baseline",
        delete=False,
        discovery="query",
        result=result,
        archived=report["conversations"],
        stats=stats,
        latency={},
        extra={"baseline": report, "returncode": result.returncode},
        steady_media_per_minute=sampler.steady_media_per_minute(),
    )


def summarise(
    label: str,
    *,
    strategy: str,
    delete: bool,
    discovery: str,
    result: Measured,
    archived: int,
    stats: dict[str, Any],
    latency: dict[str, Any],
    extra: dict[str, Any],
    steady_media_per_minute: float | None = None,
) -> dict[str, Any]:
    calls = api_calls(stats)
    per = max(1, archived)
    deletes = sum(calls.get(e, 0) for e in DELETE_ENDPOINTS) if delete else 0
    total = sum(calls.values())
    recordings = stats["by_endpoint"].get("GET /media", 0)
    recordings_per = recordings / per if delete else 0.0
    minimal = MEDIA_CALLS[strategy] + DISCOVERY_CALLS[discovery] + recordings_per
    bound = BUDGET / minimal
    rate = 60 * archived / result.wall_s if result.wall_s else 0.0
    # Steady state: after the first minute, when the budget's opening burst (300 requests at
    # once) is spent; media downloads are recordings, so scale them to conversations.
    steady = rate
    if steady_media_per_minute is not None and recordings:
        steady = steady_media_per_minute * archived / recordings
    return {
        "run": label,
        "strategy": strategy,
        "delete": delete,
        "conversations": archived,
        "wall_s": round(result.wall_s, 1),
        "conversations_per_minute": round(rate, 1),
        "steady_conversations_per_minute": round(steady, 1),
        "api_calls": total,
        "calls_per_conversation": round(total / per, 4),
        "calls_per_conversation_without_deletes": round((total - deletes) / per, 4),
        "deletes_per_conversation": round(deletes / per, 4),
        "delete_calls_per_recording": round(deletes / max(1, recordings), 4),
        "calls_by_endpoint_per_conversation": {e: round(n / per, 4) for e, n in calls.items()},
        "http_429": stats["rate_limited"],
        "media_downloads": recordings,
        "tokens_issued": stats["tokens_issued"],
        # Conversations the details query and job pages listed, per one archived: 1 when
        # discovery reads each conversation once.
        "listed_per_conversation": round(stats.get("conversations_listed", 0) / per, 3),
        "peak_rss_mb": round(result.max_rss_mb, 1),
        "cpu_s": round(result.cpu_s, 1),
        "cpu_s_per_conversation": round(result.cpu_s / per, 4),
        "bound_per_minute": round(bound, 1),
        "share_of_bound": round(steady / bound, 3),
        "web_latency": latency,
        **extra,
    }


# -- scenarios -----------------------------------------------------------------------------


def throughput(args: argparse.Namespace) -> dict[str, Any]:
    today = dt.datetime.now(dt.UTC).date()
    # One day of traffic ending yesterday at midnight, busy enough to hold N importable calls.
    org = Org(seed=args.seed, start=today - dt.timedelta(days=2), days=1,
              calls_per_hour=math.ceil(args.n * 1.5 / 24 / 0.75))  # fmt: skip
    truth, chosen = prepare(org, args.n)
    conditions = realistic(args.bandwidth_kbps)
    runs = []
    for strategy in args.strategies:
        for delete in args.delete:
            label = f"{strategy}{', delete' if delete else ''}"
            print(f"running {label}...", file=sys.stderr)
            runs.append(
                run_import(label, org, truth, chosen[0]["start"], strategy=strategy,
                           delete=delete, conditions=conditions,
                           batch_duration_min=args.batch_duration_min,
                           probe=not args.no_probe)
            )  # fmt: skip
    if not args.no_baseline:
        print("running the baseline...", file=sys.stderr)
        runs.append(run_baseline(org, chosen, conditions))
        base = runs[-1]["conversations_per_minute"] or 1.0
        for run in runs[:-1]:
            run["times_baseline"] = round(run["conversations_per_minute"] / base, 2)
    return {"scenario": "throughput", "n": args.n, "conditions": conditions,
            "batch_duration_min": args.batch_duration_min, "runs": runs}  # fmt: skip


def catchup(args: argparse.Namespace) -> dict[str, Any]:
    today = dt.datetime.now(dt.UTC).date()
    days = 40
    org = Org(seed=args.seed + 1, start=today - dt.timedelta(days=days + 1), days=days,
              calls_per_hour=round(args.n / (days * 24) / 0.78, 2),
              mean_call_seconds=12, min_call_seconds=3, max_call_seconds=40)  # fmt: skip
    with emulator(org.flags(media_cache(org), rate_limit_per_minute=0)) as prep:
        truth = prep.ground_truth(formats="none")
        chosen = importable(truth)
        prep.prewarm(_slices(chosen, 64), CODEC)
    start = dt.datetime.combine(org.start + dt.timedelta(days=1), dt.time(), dt.UTC)
    runs = [
        run_import(f"catch-up, {strategy}", org, truth, start.isoformat(), strategy=strategy,
                   delete=False, conditions=realistic(0),
                   batch_duration_min=args.batch_duration_min,
                   probe=not args.no_probe)
        for strategy in args.strategies
    ]  # fmt: skip
    in_window = [c for c in chosen if dt.datetime.fromisoformat(c["start"]) >= start]
    return {"scenario": "catchup", "history_days": days, "importable": len(in_window),
            "recording_start": start.isoformat(),
            "batch_duration_min": args.batch_duration_min, "runs": runs}  # fmt: skip


def memory(args: argparse.Namespace) -> dict[str, Any]:
    today = dt.datetime.now(dt.UTC).date()
    # One 4-hour recording, injected into an org with no traffic of its own.
    quiet = Org(seed=args.seed + 2, start=today - dt.timedelta(days=2), days=1, calls_per_hour=0)
    began = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(1), dt.UTC)
    runs = [_long_call(quiet, began, strategy) for strategy in args.strategies]
    # A batch of 500: N conversations in one window, one batch job of 100 after another.
    busy = Org(seed=args.seed + 3, start=today - dt.timedelta(days=2), days=1,
               calls_per_hour=math.ceil(500 * 1.5 / 24 / 0.75))  # fmt: skip
    truth, chosen = prepare(busy, 500)
    runs.append(
        run_import("batch of 500", busy, truth, chosen[0]["start"], strategy="batch",
                   delete=False, conditions=realistic(0), batch_duration_min=1440, probe=False)
    )  # fmt: skip
    return {"scenario": "memory", "runs": runs}


def _long_call(org: Org, began: dt.datetime, strategy: str) -> dict[str, Any]:
    """Import one injected 4-hour call; the emulator keeps injected calls in memory, so the
    import runs against the emulator that the call was injected into."""
    flags = org.flags(media_cache(org), **realistic(0))
    with (
        emulator(flags) as genesys,
        tempfile.TemporaryDirectory(prefix="bench-home-", dir=WORK) as home,
    ):
        genesys.control("POST", "calls", json={"start": began.isoformat(), "duration_s": 4 * 3600})
        truth = genesys.ground_truth(formats=CODEC)  # encodes it now, not during the import
        installation = Installation(Path(home))
        installation.configure(
            document(truth, genesys.url, recording_start=began.isoformat(), strategy=strategy,
                     delete=False, batch_duration_min=1440)
        )  # fmt: skip
        genesys.control("DELETE", "stats")
        runs = _until_imported(installation)
        stats = genesys.stats()
    result = Measured(
        returncode=max(r.returncode for r in runs),
        wall_s=sum(r.wall_s for r in runs),
        cpu_s=sum(r.cpu_s for r in runs),
        max_rss_mb=max(r.max_rss_mb for r in runs),
        stdout="".join(r.stdout for r in runs),
        stderr="".join(r.stderr for r in runs),
    )
    sizes = [f["size"] for c in truth["conversations"] for r in c["recordings"]
             for f in r["formats"].values()]  # fmt: skip
    return summarise(
        f"one 4-hour recording, {strategy}",
        strategy=strategy,
        delete=False,
        discovery="query",
        result=result,
        archived=outcomes(result.stdout)["imported"],
        stats=stats,
        latency={},
        extra={
            "media_mb": round(sum(sizes) / 2**20, 1),
            "import_runs": len(runs),
            "returncode": result.returncode,
        },
    )


def _until_imported(installation: Installation, attempts: int = 6) -> list[Measured]:
    """`import run` until the call is archived: with `transcode`, Genesys needs two minutes to
    transcode four hours, longer than one run waits, so the CDR waits in the retry buffer for
    the next run (as the scheduler would run it)."""
    runs: list[Measured] = []
    for _ in range(attempts):
        runs.append(
            measured(
                installation.command("import", "run", "--policy", POLICY, "--until-caught-up"),
                installation.env,
            )
        )
        if outcomes(runs[-1].stdout)["imported"]:
            break
        time.sleep(30)
    return runs


# -- output --------------------------------------------------------------------------------


def markdown(results: dict[str, Any]) -> str:
    """One table of the scenario's runs, and their calls by endpoint."""
    head = (
        "| run | conversations | conv/min overall | conv/min steady | bound/min "
        "| steady share of bound | x baseline "
        "| API calls/conv (no deletes) | delete calls/recording | 429s | peak RSS MB "
        "| CPU s/conv | search p95 ms (idle / importing) | status p95 ms (idle / importing) |"
    )
    lines = [head, "|---" + "|---:" * 13 + "|"]
    lines += [_row(run) for run in results["runs"]]
    lines += ["", "API calls per conversation by endpoint:", ""]
    for run in results["runs"]:
        calls = ", ".join(
            f"`{e}` {n}" for e, n in run["calls_by_endpoint_per_conversation"].items()
        )
        lines.append(f"- {run['run']}: {calls}")
    return "\n".join(lines) + "\n"


def _row(run: dict[str, Any]) -> str:
    return (
        f"| {run['run']} | {run['conversations']} | {run['conversations_per_minute']} "
        f"| {run['steady_conversations_per_minute']} "
        f"| {run['bound_per_minute']} | {100 * run['share_of_bound']:.1f} % "
        f"| {run.get('times_baseline', '')} | {run['calls_per_conversation_without_deletes']} "
        f"| {run['delete_calls_per_recording'] if run['delete'] else ''} | {run['http_429']} "
        f"| {run['peak_rss_mb']} | {run['cpu_s_per_conversation']} "
        f"| {_p95(run, Probe.PATHS[0])} | {_p95(run, Probe.PATHS[1])} |"
    )


def _p95(run: dict[str, Any], path: str) -> str:
    latency = run.get("web_latency") or {}
    if not latency:
        return ""
    idle = latency["idle"].get(path, {}).get("p95_ms", "-")
    busy = latency["importing"].get(path, {}).get("p95_ms", "-")
    return f"{idle} / {busy}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", choices=["throughput", "catchup", "memory"])
    parser.add_argument("--n", type=int, help="conversations (throughput 2000, catchup 50000)")
    parser.add_argument("--quick", action="store_true", help="200 conversations, while developing")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--strategies", default="transcode,batch")
    parser.add_argument("--delete", choices=["both", "off", "on"], default="both")
    parser.add_argument("--bandwidth-kbps", type=int, default=0,
                        help="cap the media host's bandwidth (0: no cap)")  # fmt: skip
    parser.add_argument("--batch-duration-min", type=int)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-probe", action="store_true", help="no web server beside the import")
    args = parser.parse_args()
    args.strategies = args.strategies.split(",")
    args.delete = {"both": [False, True], "off": [False], "on": [True]}[args.delete]
    defaults = {"throughput": (2000, 1440), "catchup": (50_000, 10_080), "memory": (500, 1440)}
    n, batch = defaults[args.scenario]
    args.n = 200 if args.quick else (args.n or n)
    args.batch_duration_min = args.batch_duration_min or batch
    WORK.mkdir(exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    results = {"throughput": throughput, "catchup": catchup, "memory": memory}[args.scenario](args)
    results["started"] = started.isoformat(timespec="seconds")
    results["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    results["machine"] = (
        f"{platform.machine()}, {_cores()} cores, Python {platform.python_version()}"
    )
    results["command"] = " ".join(sys.argv)
    (WORK / f"{args.scenario}.json").write_text(json.dumps(results, indent=2))
    (WORK / f"{args.scenario}.md").write_text(markdown(results))
    print(json.dumps(results, indent=2))
    print(markdown(results))


def _cores() -> int:
    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
