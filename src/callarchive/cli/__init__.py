"""The `callarchive` command line.

    callarchive db upgrade|status
    callarchive source add|list|show|test
    callarchive policy add|list|enable|disable|history
    callarchive user add|list
    callarchive extension add|list
    callarchive conversations export --format jsonl|zip [--out FILE] [--hold NAME]
    callarchive config export|import FILE.json
    callarchive secrets rotate|rotate-media-key [--finish]|rotate-signing-key|encrypt-media
    callarchive import run --policy NAME [--source NAME] [--until-caught-up]
    callarchive cursor show|set --policy NAME --source NAME
    callarchive retry-buffer list|add|remove --policy NAME --source NAME
    callarchive reconcile --source NAME --day YYYY-MM-DD [--policy NAME] [--reimport]
    callarchive serve [--host H] [--port P]
    callarchive server list
    callarchive alert list|ack|clear
    callarchive worker --server NAME
    callarchive retention show|set|run [--dry-run]
    callarchive hold create|add|list|show|release-request|release-approve
    callarchive verify --conversation ID | --day DAY | --all [--audit] [--media] | --export ZIP
    callarchive seal --unsealed [--batch-size N]

`main` is the script's entry point; `cli` the click group (tests invoke it with a `Wiring` as
`obj`), which loads a command's module (`app.COMMANDS`) only when that command is asked for.
`source test` runs a `SourceProbe`, which the wiring takes from the Genesys client.
"""

from callarchive.cli.app import Wiring, cli, main
from callarchive.imports import ProbeResult, SourceProbe, genesys_probe

__all__ = ["ProbeResult", "SourceProbe", "Wiring", "cli", "genesys_probe", "main"]
