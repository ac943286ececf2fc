"""Alembic migrations of the store schema, applied by :func:`hotspot.store.engine.migrate`."""
