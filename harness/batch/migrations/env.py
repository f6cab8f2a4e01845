"""Alembic environment of the batch ledger.

``harness.batch.ledger.Ledger`` runs it with its own connection, already inside the
transaction that makes an upgrade all-or-nothing (``config.attributes["connection"]``).
Without one (a developer's ``alembic`` command with ``sqlalchemy.url`` set) it opens the URL
itself; offline mode (``--sql``) renders the DDL.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine

from harness.batch.ledger import VERSION_TABLE, Base

config = context.config


def migrate(**where: Any) -> None:
    """Configure on ``where`` (a connection or a URL) and run the migrations."""
    context.configure(target_metadata=Base.metadata, version_table=VERSION_TABLE,
                      render_as_batch=True, **where)
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    migrate(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)


def run_on(connection: Connection) -> None:
    migrate(connection=connection)


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set sqlalchemy.url (alembic -x or an ini file) to migrate a ledger")
    engine = create_engine(url)
    try:
        with engine.begin() as own:
            run_on(own)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
