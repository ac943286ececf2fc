"""The report store: one SQLAlchemy Core schema for SQLite and PostgreSQL."""
