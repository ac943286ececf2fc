"""Alembic environment: migrates the engine handed over by :func:`hotspot.store.engine.migrate`."""

from alembic import context

from hotspot.store.engine import comparison_options
from hotspot.store.schema import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # PostGIS's spatial_ref_sys and the PostgreSQL-only GiST indexes are no difference
        **comparison_options(connection.dialect.name),
    )
    context.run_migrations()
