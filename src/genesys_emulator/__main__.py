"""`python -m genesys_emulator`: serve an emulated org over HTTP (or HTTPS) on one port."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import socket
import ssl
import sys
from collections.abc import Sequence

import uvicorn

from genesys_emulator.app import create_app
from genesys_emulator.audio import FORMATS
from genesys_emulator.config import EmulatorConfig
from genesys_emulator.faults import parse as parse_faults

BACKLOG = 2048  # uvicorn's default
DEMO = {"calls_per_hour": 30.0, "mean_call_seconds": 45.0, "days": None, "long_call_ratio": 0.0}


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def _faults(text: str) -> str:
    try:
        parse_faults(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _codec(text: str) -> str:
    if text not in FORMATS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(FORMATS)}, got {text!r}")
    return text


def parser() -> argparse.ArgumentParser:
    defaults = EmulatorConfig()
    p = argparse.ArgumentParser(
        prog="python -m genesys_emulator",
        description="Serve an emulated Genesys Cloud org: login, API, media and control hosts "
        "on one port.",
    )
    add = p.add_argument
    add("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    add("--port", type=int, default=8750, help="port to listen on; 0 picks a free one")
    add("--seed", type=int, default=defaults.seed, help="seed of the org (same seed, same org)")
    add("--start", type=_date, help="first day of traffic, YYYY-MM-DD (default: 2 days back)")
    add("--days", type=int, help="days of traffic from --start (default: never stops)")
    add("--calls-per-hour", type=float, default=defaults.calls_per_hour)
    add("--mean-call-seconds", type=float, default=defaults.mean_call_seconds)
    add("--min-call-seconds", type=float, default=defaults.min_call_seconds,
        help="shortest ordinary call")  # fmt: skip
    add("--max-call-seconds", type=float, default=defaults.max_call_seconds,
        help="longest ordinary call (long calls apart)")  # fmt: skip
    add("--long-call-ratio", type=float, default=defaults.long_call_ratio,
        help="share of calls lasting 2 to 3 hours")  # fmt: skip
    add("--users", type=int, default=defaults.users, help="number of agents")
    add("--client-id", default=defaults.client_id)
    add("--client-secret", default=defaults.client_secret)
    add("--latency-ms", type=int, default=defaults.latency_ms, help="added to every API call")
    add("--rate-limit-per-minute", type=int, default=defaults.rate_limit_per_minute,
        help="requests per token per minute; 0 for no limit")  # fmt: skip
    add("--media-bandwidth-kbps", type=int, default=defaults.media_bandwidth_kbps,
        help="bandwidth of the media host, shared by all downloads; 0 for no cap")  # fmt: skip
    add("--faults", type=_faults, default="", help="fault profiles, e.g. server-errors:0.2,slow")
    add("--trunk-codec", type=_codec, default=defaults.trunk_codec,
        help="codec of batch downloads (the trunk's original codec)")  # fmt: skip
    add("--transcode-ms", type=int, default=defaults.transcode_ms,
        help="milliseconds to transcode one minute of audio")  # fmt: skip
    add("--url-ttl-s", type=int, default=defaults.url_ttl_s, help="media URL lifetime")
    add("--token-ttl-s", type=int, default=defaults.token_ttl_s, help="access token lifetime")
    add("--media-delay-s", type=int, default=defaults.media_delay_s,
        help="seconds after a call leg ends until its media is available")  # fmt: skip
    add("--job-delay-s", type=float, default=defaults.job_delay_s,
        help="seconds an async details job stays queued")  # fmt: skip
    add("--data-lag-s", type=int, default=defaults.data_lag_s,
        help="how far the async jobs' data lags behind now")  # fmt: skip
    add("--batch-delay-s", type=float, default=defaults.batch_delay_s)
    add("--archive-after-days", type=int, default=defaults.archive_after_days)
    add("--cache-dir", help="folder for encoded media (default: a temporary folder)")
    add("--tls-cert", help="serve HTTPS with this certificate chain (PEM)")
    add("--tls-key", help="private key of --tls-cert (PEM)")
    add("--tls-client-ca", help="require client certificates signed by this CA (mutual TLS)")
    add("--demo", action="store_true", help="a lively demo org: short calls, steady live traffic")
    return p


def config_from(args: argparse.Namespace) -> EmulatorConfig:
    values = {
        "seed": args.seed,
        "start": args.start,
        "days": args.days,
        "calls_per_hour": args.calls_per_hour,
        "mean_call_seconds": args.mean_call_seconds,
        "min_call_seconds": args.min_call_seconds,
        "max_call_seconds": args.max_call_seconds,
        "long_call_ratio": args.long_call_ratio,
        "users": args.users,
        "client_id": args.client_id,
        "client_secret": args.client_secret,
        "latency_ms": args.latency_ms,
        "rate_limit_per_minute": args.rate_limit_per_minute,
        "media_bandwidth_kbps": args.media_bandwidth_kbps,
        "faults": args.faults,
        "trunk_codec": args.trunk_codec,
        "transcode_ms": args.transcode_ms,
        "url_ttl_s": args.url_ttl_s,
        "token_ttl_s": args.token_ttl_s,
        "media_delay_s": args.media_delay_s,
        "job_delay_s": args.job_delay_s,
        "data_lag_s": args.data_lag_s,
        "batch_delay_s": args.batch_delay_s,
        "archive_after_days": args.archive_after_days,
        "cache_dir": args.cache_dir,
    }
    if args.demo:
        values.update(DEMO)
    return EmulatorConfig(**values)


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    config = config_from(args)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets whose proto says TCP;
    # with proto 0 every response body waits ~40 ms for the client's delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    # Listen before announcing LISTENING: the kernel then queues connections until uvicorn
    # accepts them, so a client may connect as soon as it reads the banner.
    sock.listen(BACKLOG)
    port = sock.getsockname()[1]
    scheme = "https" if args.tls_cert else "http"
    base = f"{scheme}://{args.host}:{port}"
    print(_banner(base, config), flush=True)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            log_level="warning",
            date_header=False,  # the emulator's clock dates every answer
            ssl_certfile=args.tls_cert,
            ssl_keyfile=args.tls_key,
            ssl_ca_certs=args.tls_client_ca,
            ssl_cert_reqs=ssl.CERT_REQUIRED if args.tls_client_ca else ssl.CERT_NONE,
        )
    )
    logging.getLogger("uvicorn.error").addFilter(_quiet_dropped_connections)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        sys.exit(0)


def _quiet_dropped_connections(record: logging.LogRecord) -> bool:
    """Connections dropped on purpose by a fault profile are not errors worth a traceback."""
    error = record.exc_info[1] if record.exc_info else None
    return type(error).__name__ != "DroppedConnectionError"


def _banner(base: str, config: EmulatorConfig) -> str:
    return "\n".join(
        [
            "Genesys Cloud emulator",
            f"  Authentication URL: {base}   (POST /oauth/token)",
            f"  API URL:            {base}   (/api/v2/...)",
            f"  Media host:         {base}/media/...",
            f"  Control API:        {base}/_emulator/ground-truth | stats | clock | faults",
            f"  Client ID:          {config.client_id}",
            f"  Client Secret:      {config.client_secret}",
            (
                f"  Seed:               {config.seed}, {config.users} agents, "
                f"{config.calls_per_hour:g} calls/hour, mean call {config.mean_call_seconds:g} s"
            ),
            f"LISTENING {base}",
        ]
    )


if __name__ == "__main__":
    main()
