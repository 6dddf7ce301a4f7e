"""`callarchive alert list|ack|clear`: the stored alerts and their states."""

from __future__ import annotations

import click

from callarchive.alerts import AlertState
from callarchive.archive import AlertRecord
from callarchive.cli.app import actor, run, wiring
from callarchive.cli.sources import echo_table
from callarchive.errors import ConfigurationError


@click.group("alert")
def alert() -> None:
    """Alerts: Active, Acknowledged, Cleared."""


@alert.command("list")
@click.option(
    "--state",
    type=click.Choice([s.value for s in AlertState], case_sensitive=False),
    help="Only alerts in this state.",
)
@click.option("--limit", default=50, show_default=True, help="How many, newest first.")
@click.pass_context
def alert_list(ctx: click.Context, state: str | None, limit: int) -> None:
    """The newest alerts: id, time, severity, state, title and message's first line."""

    async def load() -> list[AlertRecord]:
        async with wiring(ctx).archive() as archive:
            wanted = next(
                (s.value for s in AlertState if s.value.lower() == (state or "").lower()), None
            )
            return await archive.alerts.list(state=wanted, limit=limit)

    rows = [
        (
            str(a.id),
            f"{a.raised_at:%Y-%m-%d %H:%M:%S}" if a.raised_at else "-",
            a.severity,
            a.state,
            a.title,
            (a.message.splitlines() or [""])[0][:80],
        )
        for a in run(load())
    ]
    echo_table(("ID", "RAISED (UTC)", "SEVERITY", "STATE", "TITLE", "MESSAGE"), rows)


@alert.command("ack")
@click.argument("alert_ids", nargs=-1, type=int, required=True)
@click.pass_context
def alert_ack(ctx: click.Context, alert_ids: tuple[int, ...]) -> None:
    """Acknowledge alerts: someone is on it."""
    _set_state(ctx, alert_ids, AlertState.ACKNOWLEDGED)


@alert.command("clear")
@click.argument("alert_ids", nargs=-1, type=int, required=True)
@click.pass_context
def alert_clear(ctx: click.Context, alert_ids: tuple[int, ...]) -> None:
    """Clear alerts: resolved."""
    _set_state(ctx, alert_ids, AlertState.CLEARED)


def _set_state(ctx: click.Context, alert_ids: tuple[int, ...], state: AlertState) -> None:
    async def store() -> None:
        async with wiring(ctx).archive() as archive:
            for alert_id in alert_ids:
                if not await archive.alerts.set_state(alert_id, state.value, actor=actor()):
                    raise ConfigurationError(
                        f"no alert has id {alert_id} (see `callarchive alert list`)", field="id"
                    )

    run(store())
    click.echo(f"{len(alert_ids)} alert(s) {state.value.lower()}")


__all__ = ["alert"]
