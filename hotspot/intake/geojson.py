"""GeoJSON FeatureCollections of reports: read for import, written for export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from hotspot.errors import UserError
from hotspot.intake.features import ReportSource, as_strings, declared_crs, refusals

__all__ = ["source_from_json", "write_geojson"]


def _crs_member(document: dict, name: str) -> str | None:
    """The CRS a pre-RFC 7946 ``crs`` member declares (RFC 7946 files are WGS84)."""
    member = document.get("crs")
    if not member:
        return None
    properties = member.get("properties") if isinstance(member, dict) else None
    if not isinstance(properties, dict):
        raise UserError(f"{name}: its crs member is not {{'type': ..., 'properties': ...}}")
    value = properties.get("name") or properties.get("code")
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        value = f"EPSG:{value}"
    return declared_crs(value, name=name)


def source_from_json(document: object, *, name: str) -> ReportSource:
    """The reports of a parsed GeoJSON FeatureCollection (or a single Feature).

    Parameters
    ----------
    document : object
        The parsed JSON.
    name : str
        The file name, for messages.

    Returns
    -------
    ReportSource
        The features' properties as strings (as our export writes them), their
        geometries, and the CRS a ``crs`` member declares; features are numbered from 1.

    Raises
    ------
    UserError
        Not a FeatureCollection, or one without features.
    """
    if isinstance(document, dict) and document.get("type") == "Feature":
        features = [document]
    elif (
        isinstance(document, dict)
        and document.get("type") == "FeatureCollection"
        and isinstance(document.get("features"), list)
    ):
        features = document["features"]
    else:
        if isinstance(document, list):
            found = "a JSON list; an Open311 file? use --format open311"
        elif isinstance(document, dict):
            found = f"type {document.get('type')!r}"
        else:
            found = f"a JSON {type(document).__name__}"
        raise UserError(f"{name}: not a GeoJSON FeatureCollection ({found})")
    if not features:
        raise UserError(f"{name}: the FeatureCollection has no features")
    crs = _crs_member(document, name)

    is_feature = np.array(
        [isinstance(f, dict) and f.get("type") == "Feature" for f in features], dtype=bool
    )
    properties = [
        f.get("properties") if ok and isinstance(f.get("properties"), dict) else {}
        for f, ok in zip(features, is_feature, strict=True)
    ]
    bad_properties = np.array(
        [
            ok and f.get("properties") is not None and not isinstance(f.get("properties"), dict)
            for f, ok in zip(features, is_feature, strict=True)
        ],
        dtype=bool,
    )
    raw = [f.get("geometry") if ok else None for f, ok in zip(features, is_feature, strict=True)]
    given = np.array([g is not None for g in raw], dtype=bool)
    texts = np.array([json.dumps(g) for g in raw if g is not None], dtype=object)
    geometry = np.full(len(features), None, dtype=object)
    if texts.size:
        geometry[given] = shapely.from_geojson(texts, on_invalid="ignore")
    unreadable = given & pd.isna(geometry)

    kinds = [str(g.get("type", "")) if isinstance(g, dict) else "" for g in raw]
    rejects = [
        refusals(np.flatnonzero(~is_feature), 1, "feature", "", "not a GeoJSON Feature"),
        refusals(np.flatnonzero(bad_properties), 1, "properties", "", "not a JSON object"),
        refusals(
            np.flatnonzero(unreadable),
            1,
            "geometry",
            np.asarray(kinds, dtype=object)[unreadable],
            "unreadable GeoJSON geometry",
        ),
    ]
    rejects = pd.concat(rejects, ignore_index=True).sort_values("row", kind="stable")
    table = as_strings(pd.DataFrame(properties, dtype=object))
    return ReportSource(
        table,
        geometry=geometry,
        geometry_required=True,
        declared_crs=crs,
        rejects=rejects,
        first_row=1,
        unit="feature",
    )


def write_geojson(
    geometries: np.ndarray, properties: pd.DataFrame, path: Path, *, notice: str | None
) -> None:
    """Write a FeatureCollection (WGS84), one feature per row, streamed.

    Parameters
    ----------
    geometries : numpy.ndarray of shapely geometries
    properties : pandas.DataFrame
        JSON-ready values (None for missing), one row per geometry.
    path : pathlib.Path
    notice : str, optional
        A ``notice`` member (demo data).
    """
    texts = shapely.to_geojson(geometries)
    with path.open("w", encoding="utf-8") as out:
        header = {"type": "FeatureCollection", "crs_note": "WGS84 (EPSG:4326)"}
        if notice:
            header["notice"] = notice
        out.write(json.dumps(header, ensure_ascii=False)[:-1] + ', "features": [\n')
        records = properties.to_dict(orient="records")
        for i, (props, geometry) in enumerate(zip(records, texts, strict=True)):
            props = {
                k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in props.items()
            }
            sep = ",\n" if i else ""
            out.write(
                f'{sep}{{"type": "Feature", "geometry": {geometry}, '
                f'"properties": {json.dumps(props, ensure_ascii=False)}}}'
            )
        out.write("\n]}\n")
