"""Pages of events as GeoJSON and CSV text, for ``/api/events?format=...``."""

from __future__ import annotations

import csv
import io
from typing import Any

from .queries import Page

#: Characters that make a spreadsheet treat a cell as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def geojson(page: Page, *, id_field: str = "event_id") -> dict[str, Any]:
    """A GeoJSON FeatureCollection (RFC 7946) of the page.

    Events without coordinates are kept, with a null geometry; ``next_cursor`` is a foreign
    member of the collection; each feature's ``id`` is its row's ``id_field``.
    """
    features = []
    for row in page.rows:
        lat, lon = row.get("latitude"), row.get("longitude")
        geometry = (
            {"type": "Point", "coordinates": [lon, lat]}
            if lat is not None and lon is not None
            else None
        )
        features.append(
            {"type": "Feature", "id": row.get(id_field), "geometry": geometry, "properties": row}
        )
    return {"type": "FeatureCollection", "features": features, "next_cursor": page.next_cursor}


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        # A leading quote keeps spreadsheets from evaluating text taken from the web.
        return "'" + value
    return "" if value is None else value


def csv_text(page: Page, *, header: bool = True) -> str:
    """The page as CSV: one header row of field names, then one row per event."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow(page.fields)
    for row in page.rows:
        writer.writerow([_cell(row.get(name)) for name in page.fields])
    return out.getvalue()
