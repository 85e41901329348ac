"""Read-only queries over an event store, for the REST API and the dashboard.

Everything here is plain library code: it parses filter values (raising
:class:`ParameterError`, which names the parameter), builds parameterised SQL over the store's
``events`` and ``articles`` tables, and returns JSON-ready data. No user value is ever
formatted into SQL text: values travel as bound parameters, and the few identifiers that vary
(columns, sort keys) are picked from fixed tables in this module.

    db = EventsDB("eventwire.duckdb")
    page = db.events(parse_filter(type="ASSAULT", bbox="35,32,42,37.5"), limit=50)
    page.rows, page.next_cursor
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from ..errors import OptionsError, StoreError
from ..model import CLUSTER_KEYS, EVENT_FIELDS, EVENT_KEYS, MODALITIES
from .snapshot import JSON_COLUMN, SORTED_BY_DATE, Snapshot, Snapshots

#: PLOVER root event types the ``type`` filter accepts.
EVENT_TYPES: tuple[str, ...] = (
    "AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST",
    "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT",
)  # fmt: skip

#: Largest page of ``/api/events``; the dashboard asks for this many markers at most.
MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100
#: Longest free-text value (actor, q) accepted, in characters.
MAX_TEXT = 200
#: Most values in one list filter (type, modality, country).
MAX_LIST = 32
#: Filters whose stats are remembered per snapshot (least recently used dropped first).
STATS_CACHE = 256
#: Selections up to this many rows are counted in Python rather than by grouping in SQL.
COUNT_IN_PYTHON = 2_000
#: Rows in each "top" list of :meth:`EventsDB.stats`.
TOP_N = 20

_EARTH_RADIUS_KM = 6371.0088
_LOW_DATE = date(1, 1, 1)
_LOW_TIME = datetime(1, 1, 2, tzinfo=UTC)

#: Sort keys: name -> (SQL expression with NULLs mapped to a low sentinel, value kind).
#: A leading "-" on the name sorts descending. Ties are broken by event_id.
SORTS: dict[str, tuple[str, str]] = {
    "event_date": ("coalesce(event_date, DATE '0001-01-01')", "date"),
    "published": ("coalesce(published, TIMESTAMPTZ '0001-01-02 00:00:00+00')", "time"),
    "confidence": ("confidence", "float"),
    "fatalities": ("coalesce(fatalities, -1)", "int"),
}
DEFAULT_SORT = "-event_date"
#: Sort keys of merged events: those of events, and how many reports were merged.
CLUSTER_SORTS: dict[str, tuple[str, str]] = {**SORTS, "report_count": ("report_count", "int")}
#: Fields a merged event can return: the cluster export keys and the reports' lists.
CLUSTER_FIELDS: tuple[str, ...] = (*CLUSTER_KEYS, "sources", "urls", "event_ids")


class ParameterError(OptionsError):
    """A request parameter is invalid.

    Args:
        parameter: The parameter's name as the caller wrote it (``bbox``, ``since``).
        message: What was wrong and what is allowed.
    """

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Parsed, validated event filters (see :func:`parse_filter`). Empty means "any"."""

    types: tuple[str, ...] = ()
    modalities: tuple[str, ...] = ()
    include_hypothetical: bool = False
    actor: str | None = None
    countries: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    bbox: tuple[float, float, float, float] | None = None
    near: tuple[float, float, float] | None = None
    q: str | None = None

    def without_dates(self) -> EventFilter:
        """The same filter over all dates (the timeline shows the whole range)."""
        return EventFilter(
            self.types, self.modalities, self.include_hypothetical, self.actor, self.countries,
            None, None, self.bbox, self.near, self.q,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Page:
    """One page of events and the cursor of the next (None on the last page).

    ``encoded`` is filled instead of ``rows`` when the caller asked for JSON text and the
    default fields: the snapshot holds each row's record as JSON, so no value is converted.
    """

    rows: list[dict[str, Any]]
    next_cursor: str | None
    fields: tuple[str, ...]
    #: With ``encoded=True``, each row as JSON text instead (``rows`` is then empty).
    encoded: list[str] | None = None


# ------------------------------------------------------------------------------- parsing


def _split(parameter: str, value: str | None) -> list[str]:
    if value is None:
        return []
    items = [v.strip() for v in value.split(",") if v.strip()]
    if len(items) > MAX_LIST:
        raise ParameterError(parameter, f"at most {MAX_LIST} comma-separated values")
    return items


def _text(parameter: str, value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not text:
        raise ParameterError(parameter, "must not be empty; leave it out to match anything")
    if len(text) > MAX_TEXT:
        raise ParameterError(parameter, f"at most {MAX_TEXT} characters, not {len(text)}")
    if "\x00" in text:
        raise ParameterError(parameter, "must not contain NUL characters")
    return text


def parse_date(parameter: str, value: str | None) -> date | None:
    """An ISO date (``YYYY-MM-DD``) between years 1 and 9999, or None.

    Raises:
        ParameterError: Not such a date.
    """
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ParameterError(
            parameter, f"expected a date as YYYY-MM-DD, for example 2020-12-10, not {value!r}"
        ) from None


def _floats(parameter: str, value: str, count: int, example: str) -> list[float]:
    parts = value.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) != count or not all(math.isfinite(n) for n in numbers):
        raise ParameterError(
            parameter, f"expected {count} comma-separated numbers, for example {example}"
        )
    return numbers


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """``west,south,east,north`` in degrees; west > east crosses the antimeridian.

    Raises:
        ParameterError: Wrong count, not numbers, out of range, or south above north.
    """
    if value is None:
        return None
    west, south, east, north = _floats("bbox", value, 4, "35.5,32.3,42.4,37.3")
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise ParameterError("bbox", "longitudes (west, east) must be within -180..180")
    if not (-90 <= south <= 90 and -90 <= north <= 90):
        raise ParameterError("bbox", "latitudes (south, north) must be within -90..90")
    if south > north:
        raise ParameterError("bbox", f"south ({south}) is above north ({north}); swap them")
    return west, south, east, north


def parse_near(value: str | None) -> tuple[float, float, float] | None:
    """``lat,lon,km``: events within ``km`` (0 < km <= 20,000) of the point.

    Raises:
        ParameterError: Wrong count, not numbers or out of range.
    """
    if value is None:
        return None
    lat, lon, km = _floats("near", value, 3, "35.9,36.6,50")
    if not -90 <= lat <= 90:
        raise ParameterError("near", f"latitude {lat} is outside -90..90")
    if not -180 <= lon <= 180:
        raise ParameterError("near", f"longitude {lon} is outside -180..180")
    if not 0 < km <= 20_000:
        raise ParameterError("near", f"radius {km} km must be above 0 and at most 20000")
    return lat, lon, km


def parse_filter(
    *,
    type: str | None = None,  # noqa: A002  (the public parameter name)
    modality: str | None = None,
    include_hypothetical: bool = False,
    actor: str | None = None,
    country: str | None = None,
    since: str | None = None,
    until: str | None = None,
    bbox: str | None = None,
    near: str | None = None,
    q: str | None = None,
) -> EventFilter:
    """Validate raw filter values (as they arrive in a query string) into an :class:`EventFilter`.

    Args:
        type: PLOVER types, comma-separated (``ASSAULT,PROTEST``), any case.
        modality: Modalities, comma-separated. Without it, hypothetical and negated events are
            left out unless ``include_hypothetical`` is true (as in ``eventwire events``).
        include_hypothetical: Keep hypothetical and negated events when no modality is given.
        actor: Case-insensitive part of actor1 or actor2 (name or surface text).
        country: Where the event happened: ISO 3166 alpha-3/alpha-2 codes or English names,
            comma-separated.
        since: First event date included, ``YYYY-MM-DD``.
        until: Last event date included.
        bbox: ``west,south,east,north``.
        near: ``lat,lon,km``.
        q: Case-insensitive text the sentence must contain.

    Raises:
        ParameterError: The first invalid value, naming its parameter.
    """
    types = []
    for item in _split("type", type):
        upper = item.upper()
        if upper not in EVENT_TYPES:
            raise ParameterError(
                "type", f"{item!r} is not a PLOVER event type; allowed: {', '.join(EVENT_TYPES)}"
            )
        types.append(upper)
    modalities = []
    for item in _split("modality", modality):
        if item.lower() not in MODALITIES:
            raise ParameterError(
                "modality", f"{item!r} is not a modality; allowed: {', '.join(MODALITIES)}"
            )
        modalities.append(item.lower())
    codes: list[str] = []
    for item in _split("country", country):
        from ..store import country_codes

        if len(item) > MAX_TEXT:
            raise ParameterError("country", f"at most {MAX_TEXT} characters per value")
        try:
            codes.extend(country_codes(item))
        except OptionsError as exc:
            raise ParameterError("country", str(exc).removeprefix("country ")) from None
    first = parse_date("since", since)
    last = parse_date("until", until)
    if first is not None and last is not None and first > last:
        raise ParameterError(
            "since", f"since ({first}) is after until ({last}); swap them or widen the range"
        )
    return EventFilter(
        types=tuple(dict.fromkeys(types)),
        modalities=tuple(dict.fromkeys(modalities)),
        include_hypothetical=include_hypothetical,
        actor=_text("actor", actor),
        countries=tuple(dict.fromkeys(codes)),
        since=first,
        until=last,
        bbox=parse_bbox(bbox),
        near=parse_near(near),
        q=_text("q", q),
    )


def parse_sort(value: str | None, sorts: dict[str, tuple[str, str]] = SORTS) -> tuple[str, bool]:
    """``name`` or ``-name`` (descending) of a key in ``sorts`` (:data:`SORTS` or
    :data:`CLUSTER_SORTS`); returns (name, descending).

    Raises:
        ParameterError: Unknown sort key.
    """
    raw = (value or DEFAULT_SORT).strip()
    descending = raw.startswith("-")
    name = raw.lstrip("-+")
    if name not in sorts:
        allowed = ", ".join(f"{k}, -{k}" for k in sorts)
        raise ParameterError("sort", f"{value!r} is not a sort key; allowed: {allowed}")
    return name, descending


def parse_fields(value: str | None, *, clusters: bool = False) -> tuple[str, ...]:
    """Comma-separated fields to return: of events (default
    :data:`~eventwire.model.EVENT_KEYS`) or, with ``clusters``, of merged events (default
    :data:`~eventwire.model.CLUSTER_KEYS`, any of :data:`CLUSTER_FIELDS`).

    Raises:
        ParameterError: An unknown field name.
    """
    if value is None:
        return CLUSTER_KEYS if clusters else EVENT_KEYS
    names = _split("fields", value) if len(value) < 4000 else None
    if not names:
        raise ParameterError("fields", "give one or more field names separated by commas")
    allowed = CLUSTER_FIELDS if clusters else EVENT_FIELDS
    known = set(allowed)
    for name in names:
        if name not in known:
            what = "a merged-event" if clusters else "an event"
            raise ParameterError(
                "fields", f"{name!r} is not {what} field; allowed: {', '.join(allowed)}"
            )
    return tuple(dict.fromkeys(names))


def where_sql(f: EventFilter) -> tuple[str, list[Any]]:
    """The WHERE clause (``""`` when empty) and its bound parameters for a filter."""
    where: list[str] = []
    params: list[Any] = []
    if f.types:
        where.append(f"event_type IN ({', '.join('?' * len(f.types))})")
        params += f.types
    if f.modalities:
        where.append(f"modality IN ({', '.join('?' * len(f.modalities))})")
        params += f.modalities
    elif not f.include_hypothetical:
        where.append("modality NOT IN ('hypothetical', 'negated')")
    if f.actor is not None:
        cols = ("actor1", "actor1_text", "actor2", "actor2_text")
        # contains() matches literally (no LIKE wildcards to escape) and is the fastest form.
        where.append("(" + " OR ".join(f"contains(lower({c}), lower(?))" for c in cols) + ")")
        params += [f.actor] * len(cols)
    if f.countries:
        where.append(f"country IN ({', '.join('?' * len(f.countries))})")
        params += f.countries
    if f.since is not None:
        where.append("event_date >= ?")
        params.append(f.since)
    if f.until is not None:
        where.append("event_date <= ?")
        params.append(f.until)
    if f.bbox is not None:
        west, south, east, north = f.bbox
        where.append("latitude BETWEEN ? AND ?")
        params += [south, north]
        if west <= east:
            where.append("longitude BETWEEN ? AND ?")
            params += [west, east]
        else:  # across the antimeridian
            where.append("(longitude >= ? OR longitude <= ?)")
            params += [west, east]
    if f.near is not None:
        lat, lon, km = f.near
        band = math.degrees(km / _EARTH_RADIUS_KM)  # cheap prefilter; the haversine decides
        where.append("latitude BETWEEN ? AND ?")
        params += [lat - band, lat + band]
        where.append(
            f"2 * {_EARTH_RADIUS_KM} * asin(least(1, sqrt("
            "pow(sin(radians(latitude - ?) / 2), 2) + "
            "cos(radians(?)) * cos(radians(latitude)) * "
            "pow(sin(radians(longitude - ?) / 2), 2)))) <= ?"
        )
        params += [lat, lat, lon, km]
    if f.q is not None:
        where.append("contains(lower(sentence), lower(?))")
        params.append(f.q)
    return (" WHERE " + " AND ".join(where) if where else ""), params


# ------------------------------------------------------------------------------- cursors


def encode_cursor(sort: str, value: Any, event_id: str) -> str:
    """An opaque cursor: the sort key and the last row's sort value and event_id."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC).isoformat()
    elif isinstance(value, date):
        value = value.isoformat()
    raw = json.dumps([sort, value, event_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    cursor: str, sort: str, sorts: dict[str, tuple[str, str]] = SORTS
) -> tuple[Any, str]:
    """The (sort value, event_id or cluster_id) a cursor holds.

    Raises:
        ParameterError: Not a cursor of this API, or one made for another sort order.
    """
    bad = ParameterError("cursor", "not a cursor returned by this API; start again without it")
    if len(cursor) > 1000:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, value, event_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise bad from None
    if key != sort.lstrip("-"):
        raise ParameterError(
            "cursor", f"this cursor belongs to sort={key!r}; use the same sort for every page"
        )
    if not isinstance(event_id, str):
        raise bad
    kind = sorts[key][1]
    try:
        if kind == "date":
            return date.fromisoformat(value), event_id
        if kind == "time":
            return datetime.fromisoformat(value), event_id
        if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
            return value, event_id
        if kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value), event_id
    except (TypeError, ValueError):
        pass
    raise bad


# ------------------------------------------------------------------------------- values


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ------------------------------------------------------------------------------- database


class EventsDB:
    """A read-only view of one store, safe to share between request threads.

    Queries run on a :class:`~eventwire.web.snapshot.Snapshot`, a private copy of the store
    refreshed when the store changes, so writers (``ingest``, ``watch``) can write while the
    server runs and every answer reflects the store as it was when the request arrived (or,
    while a writer holds the store, as it was when the writer took it).

    Args:
        path: The store's DuckDB file.
        snapshot_dir: Directory shared by the processes of one server for their snapshots;
            a private temporary one when None.

    Raises:
        StoreError: The file is missing, not a DuckDB database, not an eventwire store, or
            locked by a process writing to it.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, snapshot_dir: str | os.PathLike[str] | None = None
    ) -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise StoreError(
                f"database {self.path} does not exist; create it with "
                f"'eventwire ingest ... --db {self.path}' or give another --db"
            )
        self._local = threading.local()
        self._lock = threading.Lock()
        self._snapshots = Snapshots(
            self.path, Path(snapshot_dir) if snapshot_dir is not None else None
        )

    def close(self) -> None:
        """Close the snapshot and remove its files (idempotent)."""
        self._snapshots.close()

    @property
    def version(self) -> str:
        """Names the data answers come from now (refreshing the snapshot if the store changed)."""
        return self._snapshots.current().version

    def changed(self) -> bool:
        """Whether the store has changed since the current snapshot (cheap: two ``stat``)."""
        return self._snapshots.changed()

    def current_version(self) -> str:
        """The version of the snapshot in use, without looking at the store."""
        return self._snapshots.peek().version

    def refresh(self) -> str:
        """Take a new snapshot if the store changed (blocking); returns the version in use."""
        return self._snapshots.current().version

    def ready(self, timeout: float | None = None) -> bool:
        """Wait until answers come from the serving copy of the store's current content
        (sorted and indexed; a plain copy answers meanwhile); whether they do."""
        return self._snapshots.settle(timeout)

    def _snap(self) -> Snapshot:
        return self._snapshots.current()

    def _cursor(self, snap: Snapshot) -> duckdb.DuckDBPyConnection:
        # One DuckDB cursor per thread and snapshot: a connection must not be used concurrently.
        held = getattr(self._local, "held", None)
        if held is None or held[0] is not snap:
            cur = snap.conn.cursor()
            cur.execute("SET TimeZone = 'UTC'")
            held = self._local.held = (snap, cur)
        return held[1]

    def _fetch(
        self, sql: str, params: Sequence[Any] = (), snap: Snapshot | None = None
    ) -> list[tuple[Any, ...]]:
        try:
            return self._cursor(snap or self._snap()).execute(sql, list(params)).fetchall()
        except duckdb.Error as exc:
            raise StoreError(f"query failed: {str(exc).splitlines()[0]}") from exc

    def _select(self, snap: Snapshot, table: str, fields: Sequence[str]) -> str:
        columns = snap.columns.get(table, ())
        out = []
        for name in fields:
            if name in columns:
                out.append(_q(name))
            elif table == "clusters" and name == "source" and "sources" in columns:
                out.append("nullif(array_to_string(sources, ', '), '') AS source")
            else:
                out.append(f"NULL AS {_q(name)}")
        return ", ".join(out)

    def events(
        self,
        f: EventFilter,
        *,
        sort: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        fields: Sequence[str] = EVENT_KEYS,
        encoded: bool = False,
    ) -> Page:
        """One page of events matching ``f``, in ``sort`` order.

        Args:
            f: The filters.
            sort: A key of :data:`SORTS`, ``-`` first for descending (default newest first).
            limit: Page size, 1 to :data:`MAX_LIMIT`.
            cursor: ``next_cursor`` of the previous page.
            fields: Event fields to return.
            encoded: Return the rows as JSON text (:attr:`Page.encoded`) when ``fields`` are
                the default ones.

        Raises:
            ParameterError: Bad sort, limit or cursor.
        """
        return self._page("events", f, sort, limit, cursor, tuple(fields), encoded)

    def clusters(
        self,
        f: EventFilter,
        *,
        sort: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        fields: Sequence[str] = CLUSTER_KEYS,
        encoded: bool = False,
    ) -> Page:
        """One page of merged events: the canonical record of each cluster of reports.

        The records :meth:`eventwire.store.Store.clusters` returns (same table, same filters
        applied to the canonical record), paged like :meth:`events`. ``source`` lists every
        outlet that reported the event, ``report_count`` how many reports were merged;
        ``sources``, ``urls`` and ``event_ids`` (the reports) can be asked for as fields.
        ``article_id``, ``start`` and ``end`` are null: a cluster spans articles.

        Args:
            f: The filters.
            sort: A key of :data:`CLUSTER_SORTS`, ``-`` first for descending.
            limit: Page size, 1 to :data:`MAX_LIMIT`.
            cursor: ``next_cursor`` of the previous page.
            fields: Fields of :data:`CLUSTER_FIELDS` to return.
            encoded: As for :meth:`events`.

        Raises:
            ParameterError: Bad sort, limit or cursor.
            StoreError: The store has no clusters (created before clustering existed).
        """
        return self._page("clusters", f, sort, limit, cursor, tuple(fields), encoded)

    def _page(
        self,
        table: str,
        f: EventFilter,
        sort: str | None,
        limit: int,
        cursor: str | None,
        fields: tuple[str, ...],
        encoded: bool = False,
    ) -> Page:
        sorts = CLUSTER_SORTS if table == "clusters" else SORTS
        ident = "cluster_id" if table == "clusters" else "event_id"
        key, descending = parse_sort(sort, sorts)
        if not 1 <= limit <= MAX_LIMIT:
            raise ParameterError("limit", f"must be between 1 and {MAX_LIMIT}, not {limit}")
        snap = self._snap()
        if table not in snap.columns:
            raise StoreError(
                f"database {self.path} has no clusters table; open it once with this version "
                "of eventwire (eventwire stats --db ...) to add it"
            )
        expr = sorts[key][0]
        where, params = where_sql(f)
        # The snapshot stores rows newest first (ties by id, descending): the default order.
        in_storage_order = (
            key == "event_date" and descending and snap.optimized and table in SORTED_BY_DATE
        )
        if cursor is not None:
            value, last_id = decode_cursor(cursor, key, sorts)
            op = "<" if descending else ">"
            clause = f"({expr} {op} ? OR ({expr} = ? AND {ident} {op} ?))"
            params += [value, value, last_id]
            if in_storage_order:
                # The same condition on the bare column, which min/max pruning can use.
                clause += " AND (event_date <= ? OR event_date IS NULL)"
                params.append(value)
            where = f"{where} AND {clause}" if where else f" WHERE {clause}"
        where = where or " WHERE TRUE"
        order = "DESC" if descending else "ASC"
        default = CLUSTER_KEYS if table == "clusters" else EVENT_KEYS
        as_json = encoded and fields == default and JSON_COLUMN in snap.columns[table]
        select = JSON_COLUMN if as_json else self._select(snap, table, fields)
        rows: list[tuple[Any, ...]] = []
        if in_storage_order:
            # Without ORDER BY, DuckDB returns rows in storage order (insertion order is
            # preserved) and stops reading once it has enough: no sort, no full scan.
            rows = self._fetch(
                f"SELECT {select}, {expr} AS __k, {ident} AS __id FROM {table}{where} LIMIT ?",
                [*params, limit + 1],
                snap,
            )
            keys = [(r[-2], r[-1]) for r in rows]
            if any(a < b for a, b in zip(keys, keys[1:], strict=False)):
                in_storage_order = False  # a real date equal to the NULL sentinel: sort
        if not in_storage_order:
            # Sort the narrow keys (row number, sort value, id), then read the wide columns of
            # the page's rows by row number: sorting rows with every column costs far more.
            top = self._fetch(
                f"SELECT rowid AS __r, {expr} AS __k, {ident} AS __id FROM {table}{where} "
                f"ORDER BY __k {order}, __id {order} LIMIT ?",
                [*params, limit + 1],
                snap,
            )
            wide: dict[int, tuple[Any, ...]] = {}
            if top:
                found = self._fetch(
                    f"SELECT rowid, {select} FROM {table} "
                    "SEMI JOIN (SELECT unnest(?) AS __r) ON rowid = __r",
                    [[r[0] for r in top]],
                    snap,
                )
                wide = {r[0]: r[1:] for r in found}
            rows = [(*wide[r[0]], r[1], r[2]) for r in top]
        more = len(rows) > limit
        rows = rows[:limit]
        n = 1 if as_json else len(fields)
        next_cursor = encode_cursor(key, rows[-1][n], rows[-1][n + 1]) if more else None
        if as_json:
            return Page([], next_cursor, fields, [row[0] for row in rows])
        out = [
            {name: _jsonable(v) for name, v in zip(fields, row[:n], strict=True)} for row in rows
        ]
        return Page(out, next_cursor, fields)

    def event(self, event_id: str) -> dict[str, Any] | None:
        """Every stored field of one event, or None."""
        snap = self._snap()
        rows = self._fetch(
            f"SELECT {self._select(snap, 'events', EVENT_FIELDS)} FROM events WHERE event_id = ?",
            [event_id],
            snap,
        )
        if not rows:
            return None
        return {k: _jsonable(v) for k, v in zip(EVENT_FIELDS, rows[0], strict=True)}

    def article(self, article_id: str) -> dict[str, Any] | None:
        """One article with its text and the offsets of every event's evidence, or None.

        Returns:
            ``article_id``, ``url``, ``title``, ``source``, ``published``, ``text``, and
            ``events``: one entry per event with ``event_id``, ``event_type``, ``modality`` and
            ``spans``, a list of ``{"role", "start", "end"}`` for the sentence, trigger,
            actor1, actor2 and place (offsets index ``text``).
        """
        snap = self._snap()
        rows = self._fetch(
            "SELECT article_id, url, title, source, published, text FROM articles "
            "WHERE article_id = ?",
            [article_id],
            snap,
        )
        if not rows:
            return None
        names = ("article_id", "url", "title", "source", "published", "text")
        article = {k: _jsonable(v) for k, v in zip(names, rows[0], strict=True)}
        roles = ("trigger", "actor1", "actor2", "place")
        cols = ["event_id", "event_type", "modality", "start", "end"]
        cols += [f"{r}_{e}" for r in roles for e in ("start", "end")]
        events = []
        length = len(article["text"] or "")
        for row in self._fetch(
            f"SELECT {self._select(snap, 'events', cols)} FROM events WHERE article_id = ? "
            'ORDER BY "start", event_id',
            [article_id],
            snap,
        ):
            rec = dict(zip(cols, row, strict=True))
            spans = []
            for role in ("sentence", *roles):
                prefix = "" if role == "sentence" else f"{role}_"
                start, end = rec[f"{prefix}start"], rec[f"{prefix}end"]
                if start is not None and end is not None and 0 <= start <= end <= length:
                    spans.append({"role": role, "start": start, "end": end})
            events.append({
                "event_id": rec["event_id"], "event_type": rec["event_type"],
                "modality": rec["modality"], "spans": spans,
            })  # fmt: skip
        article["events"] = events
        return article

    def stats(self, f: EventFilter, *, clusters: bool = False) -> dict[str, Any]:
        """Counts of the events (or, with ``clusters``, merged events) matching ``f``.

        Computed once per filter and snapshot, then remembered until the store changes.

        Returns:
            ``total``, ``first_date``/``last_date``, ``by_day`` (``[[date, n], ...]`` in date
            order), ``by_type``, ``by_modality``, ``by_country`` and ``by_actor`` (each
            ``[[value, n], ...]``, largest first; at most :data:`TOP_N` countries and actors,
            an actor counted once per event whichever side it is on).

        Raises:
            StoreError: ``clusters`` on a store without clusters.
        """
        snap = self._snap()
        table = "clusters" if clusters else "events"
        if table not in snap.columns:
            raise StoreError(f"database {self.path} has no clusters table")
        key = ("stats", table, f)
        with self._lock:
            cache: OrderedDict[Any, dict[str, Any]] = snap.memo.setdefault("stats", OrderedDict())
            cached = cache.get(key)
            if cached is not None:
                cache.move_to_end(key)
                return cached
        result = self._compute_stats(f, table, snap)
        with self._lock:
            cache[key] = result
            while len(cache) > STATS_CACHE:
                cache.popitem(last=False)
        return result

    def _compute_stats(
        self, f: EventFilter, table: str = "events", snap: Snapshot | None = None
    ) -> dict[str, Any]:
        snap = snap or self._snap()
        where, params = where_sql(f)
        # A selection of a few thousand rows is counted here: one narrow scan costs less than
        # planning the six groupings below. Larger ones are counted by DuckDB.
        rows = self._fetch(
            f"SELECT event_date, event_type, modality, country, actor1, actor2 FROM {table}"
            f"{where} LIMIT ?",
            [*params, COUNT_IN_PYTHON + 1],
            snap,
        )
        if len(rows) <= COUNT_IN_PYTHON:
            return _stats_of_rows(rows)
        return self._sql_stats(where, params, table, snap)

    def _sql_stats(
        self, where: str, params: list[Any], table: str, snap: Snapshot
    ) -> dict[str, Any]:
        # One statement: the filter runs once into a narrow materialised set, then each count
        # groups that set. Each actor counts once per event (actor2 only where it differs).
        rows = self._fetch(
            "WITH s AS MATERIALIZED (SELECT event_date, event_type, modality, country, actor1, "
            f"actor2 FROM {table}{where}) "
            "SELECT 'total', NULL, count(*) FROM s UNION ALL "
            "SELECT 'day', CAST(event_date AS VARCHAR), count(*) FROM s "
            "WHERE event_date IS NOT NULL GROUP BY event_date UNION ALL "
            "SELECT 'type', event_type, count(*) FROM s GROUP BY event_type UNION ALL "
            "SELECT 'modality', modality, count(*) FROM s GROUP BY modality UNION ALL "
            "SELECT 'country', country, count(*) FROM s GROUP BY country UNION ALL "
            "SELECT 'actor', a, n FROM (SELECT a, count(*) AS n FROM (SELECT actor1 AS a FROM s "
            "UNION ALL SELECT actor2 FROM s WHERE actor2 IS DISTINCT FROM actor1) "
            "WHERE a IS NOT NULL GROUP BY a ORDER BY n DESC, a LIMIT ?)",
            [*params, TOP_N],
            snap,
        )
        groups: dict[str, list[list[Any]]] = {
            k: [] for k in ("day", "type", "modality", "country", "actor")
        }
        total = 0
        for group, value, n in rows:
            if group == "total":
                total = int(n)
            else:
                groups[group].append([value if value is not None else "unknown", int(n)])
        return _stats_result(total, groups)

    def health(self) -> dict[str, Any]:
        """Whether the store answers, with its article and event counts and data version.

        ``status`` is ``ok``, or ``stale`` when the store changed but could not be read again
        yet (a writer holds it; ``problem`` says why): answers then come from ``data_version``,
        the last content read. ``snapshot`` is ``preparing`` while the sorted, indexed copy of
        that content is being built (a plain copy answers, more slowly) and then ``ready``.
        """
        snap = self._snap()
        problem = self._snapshots.problem if self._snapshots.changed() else None
        out: dict[str, Any] = {
            "status": "stale" if problem else "ok",
            "events": snap.counts.get("events", 0),
            "articles": snap.counts.get("articles", 0),
            "clusters": snap.counts.get("clusters"),
            "data_version": snap.version,
            "snapshot": "ready" if snap.optimized else "preparing",
        }
        if problem:
            out["problem"] = problem
        return out


def _stats_result(total: int, groups: dict[str, list[list[Any]]]) -> dict[str, Any]:
    by_day = sorted(groups.pop("day"))
    for g in groups.values():
        g.sort(key=lambda r: (-r[1], r[0]))
    return {
        "total": total,
        "first_date": by_day[0][0] if by_day else None,
        "last_date": by_day[-1][0] if by_day else None,
        "by_day": by_day,
        "by_type": groups["type"],
        "by_modality": groups["modality"],
        "by_country": groups["country"][:TOP_N],
        "by_actor": groups["actor"][:TOP_N],
    }


def _stats_of_rows(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """The counts of :meth:`EventsDB.stats` over fetched rows (the same rules as its SQL)."""
    days: Counter[str] = Counter()
    types: Counter[Any] = Counter()
    modalities: Counter[Any] = Counter()
    countries: Counter[Any] = Counter()
    actors: Counter[str] = Counter()
    for day, event_type, modality, country, actor1, actor2 in rows:
        if day is not None:
            days[day.isoformat() if isinstance(day, date) else str(day)] += 1
        types[event_type] += 1
        modalities[modality] += 1
        countries[country] += 1
        if actor1 is not None:
            actors[actor1] += 1
        if actor2 is not None and actor2 != actor1:
            actors[actor2] += 1

    def pairs(counts: Counter[Any]) -> list[list[Any]]:
        return [[k if k is not None else "unknown", n] for k, n in counts.items()]

    top_actors = sorted(actors.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_N]
    groups = {
        "day": [[d, n] for d, n in days.items()],
        "type": pairs(types),
        "modality": pairs(modalities),
        "country": pairs(countries),
        "actor": [[a, n] for a, n in top_actors],
    }
    return _stats_result(len(rows), groups)
