"""Alembic environment: migrations run on the connection `callarchive.archive` hands over.

`callarchive db upgrade` (and `Archive.upgrade`) put the connection in `config.attributes`; the
`alembic` command line works too, with `-x url=DATABASE_URL`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from callarchive.archive.schema import Base


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    url = context.get_x_argument(as_dictionary=True)["url"]
    with create_engine(url).connect() as fresh:
        _migrate(fresh)


_run()
