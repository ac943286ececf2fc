"""Writing a whole town (communities, grid, streets, zones, reports) into the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine

from hotspot.store import schema
from hotspot.store.frames import clear_store, insert_frame, write_meta

if TYPE_CHECKING:
    from hotspot.demo import DemoTown

__all__ = ["write_town"]


def write_town(engine: Engine, town: DemoTown) -> None:
    """Replace the store's contents (all but user accounts) with ``town``, in one transaction.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        A migrated store.
    town : hotspot.demo.DemoTown
    """
    with engine.begin() as conn:
        clear_store(conn)
        insert_frame(conn, schema.community, town.communities)
        insert_frame(conn, schema.grid_cell, town.grid_cells)
        insert_frame(conn, schema.street, town.streets)
        insert_frame(conn, schema.storefront_zone, town.zones)
        insert_frame(conn, schema.patrol, town.patrols)
        insert_frame(conn, schema.report, town.reports)
        insert_frame(conn, schema.report_event, town.events)
        write_meta(conn, town.meta)
