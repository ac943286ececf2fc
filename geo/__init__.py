"""Pure spatial logic: coordinate systems, H3 cells, zones and hotspot statistics."""
