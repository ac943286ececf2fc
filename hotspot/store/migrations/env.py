"""Alembic environment: migrates the engine handed over by :func:`hotspot.store.engine.migrate`."""

from alembic import context

from hotspot.store.schema import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
