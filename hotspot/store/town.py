"""Writing a whole town (communities, grid, streets, zones, reports) into the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, select, update

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
        accounts = _unlink_accounts(conn)
        clear_store(conn)
        insert_frame(conn, schema.community, town.communities)
        insert_frame(conn, schema.grid_cell, town.grid_cells)
        insert_frame(conn, schema.street, town.streets)
        insert_frame(conn, schema.storefront_zone, town.zones)
        insert_frame(conn, schema.patrol, town.patrols)
        insert_frame(conn, schema.report, town.reports)
        insert_frame(conn, schema.report_event, town.events)
        write_meta(conn, town.meta)
        _relink_accounts(conn, accounts)


def _unlink_accounts(conn: Connection) -> list[tuple[int, str]]:
    """Detach community accounts from their communities; return (account id, community code)."""
    users, community = schema.app_user, schema.community
    linked = conn.execute(
        select(users.c.id, community.c.code).join(community, users.c.community_id == community.c.id)
    ).all()
    conn.execute(update(users).where(users.c.community_id.is_not(None)).values(community_id=None))
    return [(int(row.id), row.code) for row in linked]


def _relink_accounts(conn: Connection, accounts: list[tuple[int, str]]) -> None:
    """Attach accounts to the new community of the same code; disable those whose code is gone."""
    users, community = schema.app_user, schema.community
    ids = {row.code: row.id for row in conn.execute(select(community.c.code, community.c.id))}
    for user_id, code in accounts:
        values = {"community_id": ids[code]} if code in ids else {"disabled": True}
        conn.execute(update(users).where(users.c.id == user_id).values(**values))
