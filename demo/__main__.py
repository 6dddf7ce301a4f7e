"""`make demo`: the emulator with a lively demo org, callarchive configured for it, importing.

1. starts the Genesys Cloud emulator (`python -m genesys_emulator --demo`) on port 8750;
2. creates a callarchive installation in `.demo/home` (SQLite and local folders, the embedded
   default), imports the configuration (an import source for the emulator, a policy, a user and
   extensions for every agent) with `callarchive config import`;
3. imports everything up to now (`callarchive import run --until-caught-up`);
4. gives the demo administrator a password and runs `callarchive serve`: the web UI at a printed
   local address, the scheduler importing the live traffic every minute, until Ctrl-C.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

from demo.configuration import configuration_for

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / ".demo"
PORT = int(os.environ.get("DEMO_PORT", "8750"))
WEB_PORT = int(os.environ.get("DEMO_WEB_PORT", "8080"))
ADMIN = "admin"
ADMIN_PASSWORD = "callarchive-demo"  # noqa: S105 - the demo's printed sign-in, loopback only
POLICY = "Genesys import"
HISTORY_HOURS = 6


def main() -> None:
    shutil.rmtree(DEMO, ignore_errors=True)
    home = DEMO / "home"
    home.mkdir(parents=True)
    environment = {**os.environ, "CALLARCHIVE_HOME": str(home)}
    now = dt.datetime.now(dt.UTC)
    start = now.date() - dt.timedelta(days=1)
    serve: subprocess.Popen[str] | None = None
    emulator = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "genesys_emulator", "--demo", "--port", str(PORT),
         "--start", start.isoformat(), "--cache-dir", str(DEMO / "emulator-media")],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        base = _wait_listening(emulator)
        truth = _json(f"{base}/_emulator/ground-truth?formats=none")
        document = configuration_for(
            truth,
            base_url=base,
            client_id="callarchive-demo",
            client_secret="demo-secret-change-me",  # noqa: S106 - the emulator's demo credential
            recording_start=(now - dt.timedelta(hours=HISTORY_HOURS)).isoformat(),
            codec="WAV",
            timezone="Europe/London",
            max_recording_length_min=5,
            availability_delay_min=2,
            batch_duration_min=240,
        )
        for policy in document["policies"]:
            policy["schedule"] = {"every_minutes": 1}  # live traffic near real time
        document["users"].append(
            {"login": ADMIN, "name": "Demo administrator", "role": "administrator",
             "supervisor": None, "partitions": [], "recorded": False}
        )  # fmt: skip
        (DEMO / "config.json").write_text(json.dumps(document, indent=2))
        _callarchive(environment, "db", "upgrade")
        _callarchive(environment, "config", "import", str(DEMO / "config.json"))
        print(f"\ncallarchive home: {home}   (CALLARCHIVE_HOME)")
        print(f"importing the last {HISTORY_HOURS} hours...")
        _callarchive(
            environment, "import", "run", "--policy", POLICY, "--until-caught-up", quiet=True
        )
        _callarchive(environment, "cursor", "show", "--policy", POLICY, "--source", "Emulated org")
        _callarchive(
            environment, "user", "password", ADMIN, "--password-stdin", stdin=ADMIN_PASSWORD
        )
        serve = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [sys.executable, "-m", "callarchive.cli", "--log-level", "warning", "serve",
             "--port", str(WEB_PORT)],
            env=environment,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        web = _wait_listening(serve).rstrip("/")
        print(
            f"\n  Web UI:   {web}/   sign in as {ADMIN!r} with password {ADMIN_PASSWORD!r}"
            f"\n  REST API: {web}/api/v1/docs"
            f"\n  Archive:  CALLARCHIVE_HOME={home} .venv/bin/callarchive conversations export"
            "\nLive traffic is imported every minute; Ctrl-C stops the demo."
        )
        serve.wait()
    except KeyboardInterrupt:
        print("\ndemo stopped")
    finally:
        for process in (serve, emulator):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


def _wait_listening(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None  # noqa: S101 - piped above
    for line in process.stdout:
        print(line, end="")
        if line.startswith("LISTENING "):
            return line.split()[1]
    raise SystemExit("the emulator did not start")


def _json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - our own loopback URL
        return dict(json.load(response))


def _callarchive(
    environment: dict[str, str], *args: str, quiet: bool = False, stdin: str | None = None
) -> None:
    command = [sys.executable, "-m", "callarchive.cli", *args]
    result = subprocess.run(  # noqa: S603 - our own module
        command, env=environment, capture_output=quiet, text=True, check=False, input=stdin
    )
    if quiet and result.stdout:
        lines = result.stdout.splitlines()
        summaries = [line for line in lines if not line.startswith("  ")]
        print("\n".join(summaries[-5:]))
    if result.returncode != 0:
        print(result.stderr if quiet else "", file=sys.stderr)


if __name__ == "__main__":
    main()
