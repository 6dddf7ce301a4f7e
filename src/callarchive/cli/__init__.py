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
`obj`). `source test` runs a `SourceProbe`, which the wiring takes from the Genesys client.
"""

from callarchive.cli.alerts import alert
from callarchive.cli.app import Wiring, cli, main
from callarchive.cli.compliance import hold, retention
from callarchive.cli.data import config, conversations, db, secrets
from callarchive.cli.imports import cursor, import_, retry_buffer
from callarchive.cli.reconcile import reconcile
from callarchive.cli.running import serve, server
from callarchive.cli.setup import extension, policy, user
from callarchive.cli.sources import source
from callarchive.cli.verify import seal, verify
from callarchive.cli.workers import worker
from callarchive.imports import ProbeResult, SourceProbe, genesys_probe

for _group in (
    db,
    source,
    policy,
    user,
    extension,
    conversations,
    config,
    secrets,
    import_,
    cursor,
    retry_buffer,
    reconcile,
    serve,
    server,
    worker,
    alert,
    retention,
    hold,
    verify,
    seal,
):
    cli.add_command(_group)

__all__ = ["ProbeResult", "SourceProbe", "Wiring", "cli", "genesys_probe", "main"]
