"""Export formats for events: a terminal table, JSON, JSON Lines, CSV, GeoJSON and Parquet.

Every format except ``table`` carries the keys it is given, in that order: by default
:data:`eventwire.model.EVENT_KEYS`; stored reports add their cluster (:data:`REPORT_KEYS`),
clusters their report count and sources (:data:`~eventwire.model.CLUSTER_KEYS`). The table
of clusters shows the report count and the sources.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .errors import OptionsError
from .model import EVENT_KEYS, Event

#: Keys of exports of stored reports: each report with the cluster (the real event) it was
#: merged into and how many reports that cluster has.
REPORT_KEYS: tuple[str, ...] = (*EVENT_KEYS, "cluster_id", "report_count")

#: Names accepted by :func:`write_events`.
FORMATS: tuple[str, ...] = ("table", "json", "jsonl", "csv", "geojson", "parquet")

#: Text formats, the ones :func:`render` produces.
TEXT_FORMATS: tuple[str, ...] = tuple(f for f in FORMATS if f != "parquet")

#: Columns of the ``table`` format: header, width, how to get the value.
TABLE_COLUMNS: tuple[tuple[str, int, str], ...] = (
    ("date", 10, "event_date"),
    ("type", 10, "event_type"),
    ("modality", 12, "modality"),
    ("actor1", 20, "actor1"),
    ("actor2", 20, "actor2"),
    ("place", 18, "place"),
    ("country", 7, "country"),
    ("sentence", 60, "sentence"),
)

#: Columns of the ``table`` format for clusters (keys with ``report_count`` and ``source``):
#: how many reports, and by which outlets, next to the canonical record.
CLUSTER_TABLE_COLUMNS: tuple[tuple[str, int, str], ...] = (
    ("date", 10, "event_date"),
    ("type", 10, "event_type"),
    ("reports", 7, "report_count"),
    ("actor1", 20, "actor1"),
    ("actor2", 20, "actor2"),
    ("place", 18, "place"),
    ("country", 7, "country"),
    ("sources", 30, "source"),
    ("sentence", 50, "sentence"),
)

_ELLIPSIS = "…"


def render(events: Sequence[Event], fmt: str, *, keys: Sequence[str] = EVENT_KEYS) -> str:
    """The events in a text format, as one string.

    Args:
        events: Events to render.
        fmt: One of :data:`TEXT_FORMATS`.
        keys: Fields to write (:data:`~eventwire.model.CLUSTER_KEYS` for clusters).

    Returns:
        The rendered text, ending with a newline unless it is empty.

    Raises:
        OptionsError: ``fmt`` is unknown, or is ``parquet`` (binary: use :func:`write_events`).
    """
    _check_format(fmt)
    if fmt == "parquet":
        raise OptionsError("parquet is binary: give --output FILE (write_events with a path)")
    buffer = io.StringIO(newline="")
    _write_text(events, fmt, buffer, keys)
    return buffer.getvalue()


def write_events(
    events: Sequence[Event],
    fmt: str,
    out: TextIO | str | os.PathLike[str] | None,
    *,
    keys: Sequence[str] = EVENT_KEYS,
) -> None:
    """Write events in ``fmt`` to a text stream or a file.

    Args:
        events: Events to write.
        fmt: One of :data:`FORMATS`.
        out: A text stream, a file path (created or replaced), or None for standard output.
            ``parquet`` needs a path.
        keys: Fields to write (:data:`~eventwire.model.CLUSTER_KEYS` for clusters).

    Raises:
        OptionsError: Unknown format, parquet without a path, or a file that cannot be written.
    """
    _check_format(fmt)
    if not isinstance(out, (str, os.PathLike)):
        if fmt == "parquet":
            raise OptionsError("parquet is binary: give --output FILE")
        _write_text(events, fmt, out if out is not None else sys.stdout, keys)
        return
    path = Path(out)
    if fmt == "parquet":
        _write_parquet(events, path, keys)
        return
    try:
        with path.open("w", encoding="utf-8", newline="") as fh:
            _write_text(events, fmt, fh, keys)
    except OSError as exc:
        raise OptionsError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise OptionsError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")


def _write_text(events: Sequence[Event], fmt: str, out: TextIO, keys: Sequence[str]) -> None:
    if fmt == "table":
        clusters = "report_count" in keys and "source" in keys
        out.write(_table(events, CLUSTER_TABLE_COLUMNS if clusters else TABLE_COLUMNS))
    elif fmt == "json":
        json.dump([e.to_dict(keys) for e in events], out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif fmt == "jsonl":
        for event in events:
            out.write(json.dumps(event.to_dict(keys), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(keys)
        for event in events:
            row = event.to_dict(keys)
            writer.writerow(["" if row[k] is None else row[k] for k in keys])
    elif fmt == "geojson":
        json.dump(_geojson(events, keys), out, ensure_ascii=False)
        out.write("\n")


def _geojson(events: Sequence[Event], keys: Sequence[str]) -> dict[str, Any]:
    features = []
    for event in events:
        has_point = event.latitude is not None and event.longitude is not None
        features.append(
            {
                "type": "Feature",
                "id": event.event_id or event.cluster_id,
                # GeoJSON (RFC 7946) puts longitude first.
                "geometry": {"type": "Point", "coordinates": [event.longitude, event.latitude]}
                if has_point
                else None,
                "properties": event.to_dict(keys),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _cell(value: Any, width: int) -> str:
    text = "" if value is None else " ".join(str(value).split())
    if len(text) > width:
        text = text[: width - 1] + _ELLIPSIS
    return text.ljust(width)


def _table(events: Sequence[Event], columns: Sequence[tuple[str, int, str]]) -> str:
    if not events:
        return "no events\n"
    lines = [
        "  ".join(_cell(title, width) for title, width, _ in columns).rstrip(),
        "  ".join("-" * width for _, width, _ in columns),
    ]
    for event in events:
        lines.append(
            "  ".join(_cell(getattr(event, attr), width) for _, width, attr in columns).rstrip()
        )
    return "\n".join(lines) + "\n"


def _write_parquet(events: Sequence[Event], path: Path, keys: Sequence[str]) -> None:
    import duckdb

    from .store import EVENT_COLUMNS, insert_rows

    columns = {key: EVENT_COLUMNS[key] for key in keys}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OptionsError(f"cannot create the folder of {path}: {exc.strerror or exc}") from exc
    conn = duckdb.connect()  # in memory: the file is written by COPY
    try:
        conn.execute("SET TimeZone = 'UTC'")
        definition = ", ".join(f'"{name}" {sql_type}' for name, sql_type in columns.items())
        conn.execute(f"CREATE TABLE export ({definition})")
        insert_rows(conn, "export", columns, [e.to_record() for e in events])
        conn.execute("COPY export TO ? (FORMAT parquet)", [str(path)])
    except duckdb.Error as exc:
        raise OptionsError(f"cannot write {path} as parquet: {exc}") from exc
    finally:
        conn.close()


__all__ = [
    "CLUSTER_TABLE_COLUMNS",
    "FORMATS",
    "REPORT_KEYS",
    "TABLE_COLUMNS",
    "TEXT_FORMATS",
    "render",
    "write_events",
]
