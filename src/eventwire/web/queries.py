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
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from ..errors import OptionsError, StoreError
from ..model import EVENT_FIELDS, EVENT_KEYS, MODALITIES

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
#: Pages up to this size fetch rows by id after sorting keys; larger ones use a threshold.
TWO_PHASE_MAX = 200
#: Filters whose stats are remembered (least recently used dropped first).
STATS_CACHE = 256
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
#: Per value kind, SQL literals below and above every stored sort value.
_EXTREMES: dict[str, tuple[str, str]] = {
    "date": ("DATE '0001-01-01'", "DATE '9999-12-31'"),
    "time": ("TIMESTAMPTZ '0001-01-02 00:00:00+00'", "TIMESTAMPTZ '9999-12-30 00:00:00+00'"),
    "float": ("CAST('-inf' AS DOUBLE)", "CAST('inf' AS DOUBLE)"),
    "int": ("-2147483648", "2147483647"),
}


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
    """One page of events and the cursor of the next (None on the last page)."""

    rows: list[dict[str, Any]]
    next_cursor: str | None
    fields: tuple[str, ...]


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


def parse_sort(value: str | None) -> tuple[str, bool]:
    """``name`` or ``-name`` (descending) of a key in :data:`SORTS`; returns (name, descending).

    Raises:
        ParameterError: Unknown sort key.
    """
    raw = (value or DEFAULT_SORT).strip()
    descending = raw.startswith("-")
    name = raw.lstrip("-+")
    if name not in SORTS:
        allowed = ", ".join(f"{k}, -{k}" for k in SORTS)
        raise ParameterError("sort", f"{value!r} is not a sort key; allowed: {allowed}")
    return name, descending


def parse_fields(value: str | None) -> tuple[str, ...]:
    """Comma-separated event fields to return (default :data:`~eventwire.model.EVENT_KEYS`).

    Raises:
        ParameterError: An unknown field name.
    """
    if value is None:
        return EVENT_KEYS
    names = _split("fields", value) if len(value) < 4000 else None
    if not names:
        raise ParameterError("fields", "give one or more field names separated by commas")
    known = set(EVENT_FIELDS)
    for name in names:
        if name not in known:
            raise ParameterError(
                "fields", f"{name!r} is not an event field; allowed: {', '.join(EVENT_FIELDS)}"
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


def decode_cursor(cursor: str, sort: str) -> tuple[Any, str]:
    """The (sort value, event_id) a cursor holds.

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
    kind = SORTS[key][1]
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
    """A read-only view of one store file, safe to share between request threads.

    Args:
        path: The store's DuckDB file.

    Raises:
        StoreError: The file is missing, not a DuckDB database, not an eventwire store, or
            locked by a process writing to it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise StoreError(
                f"database {self.path} does not exist; create it with "
                f"'eventwire ingest ... --db {self.path}' or give another --db"
            )
        try:
            self._conn = duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error as exc:
            message = str(exc).splitlines()[0]
            if "lock" in message.lower():
                raise StoreError(
                    f"database {self.path} is being written by another process ({message}); "
                    "serve it when the ingest has finished"
                ) from exc
            raise StoreError(f"cannot open database {self.path}: {message}") from exc
        self._local = threading.local()
        self._lock = threading.Lock()
        self._stats_cache: OrderedDict[EventFilter, dict[str, Any]] = OrderedDict()
        tables = {r[0] for r in self._cursor().execute("SHOW TABLES").fetchall()}
        if not {"events", "articles"} <= tables:
            self.close()
            raise StoreError(
                f"{self.path} is not an eventwire store (it has no events and articles tables)"
            )
        columns = {r[0] for r in self._cursor().execute("DESCRIBE events").fetchall()}
        self.columns: tuple[str, ...] = tuple(c for c in EVENT_FIELDS if c in columns)

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._conn.close()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        # One DuckDB cursor per thread: a connection object must not be used concurrently.
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._conn.cursor()
            cur.execute("SET TimeZone = 'UTC'")
            self._local.cursor = cur
        return cur

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._cursor().execute(sql, list(params)).fetchall()
        except duckdb.Error as exc:
            raise StoreError(f"query failed: {str(exc).splitlines()[0]}") from exc

    def _select(self, fields: Sequence[str]) -> str:
        return ", ".join(_q(c) if c in self.columns else f"NULL AS {_q(c)}" for c in fields)

    def events(
        self,
        f: EventFilter,
        *,
        sort: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        fields: Sequence[str] = EVENT_KEYS,
    ) -> Page:
        """One page of events matching ``f``, in ``sort`` order.

        Args:
            f: The filters.
            sort: A key of :data:`SORTS`, ``-`` first for descending (default newest first).
            limit: Page size, 1 to :data:`MAX_LIMIT`.
            cursor: ``next_cursor`` of the previous page.
            fields: Event fields to return.

        Raises:
            ParameterError: Bad sort, limit or cursor.
        """
        key, descending = parse_sort(sort)
        if not 1 <= limit <= MAX_LIMIT:
            raise ParameterError("limit", f"must be between 1 and {MAX_LIMIT}, not {limit}")
        expr, kind = SORTS[key]
        where, params = where_sql(f)
        if cursor is not None:
            value, last_id = decode_cursor(cursor, key)
            op = "<" if descending else ">"
            clause = f"({expr} {op} ? OR ({expr} = ? AND event_id {op} ?))"
            where = f"{where} AND {clause}" if where else f" WHERE {clause}"
            params += [value, value, last_id]
        where = where or " WHERE TRUE"
        order = "DESC" if descending else "ASC"
        fields = tuple(fields)
        if limit <= TWO_PHASE_MAX:
            rows = self._top_by_ids(fields, where, params, expr, order, limit)
        else:
            rows = self._top_by_threshold(fields, where, params, expr, kind, descending, limit)
        more = len(rows) > limit
        rows = rows[:limit]
        n = len(fields)
        out = [
            {name: _jsonable(v) for name, v in zip(fields, row[:n], strict=True)} for row in rows
        ]
        next_cursor = encode_cursor(key, rows[-1][n], rows[-1][n + 1]) if more else None
        return Page(out, next_cursor, fields)

    def _top_by_ids(
        self, fields: tuple[str, ...], where: str, params: list[Any], expr: str, order: str,
        limit: int,
    ) -> list[tuple[Any, ...]]:
        # Small pages: sort only (key, event_id), then fetch the wide rows by primary key.
        # Materialising every column of every row the filter passes costs far more.
        top = self._fetch(
            f"SELECT {expr} AS __k, event_id AS __id FROM events{where} "
            f"ORDER BY __k {order}, __id {order} LIMIT ?",
            [*params, limit + 1],
        )
        if not top:
            return []
        wide = self._fetch(
            f"SELECT {self._select(fields)}, event_id AS __id FROM events "
            f"WHERE event_id IN ({', '.join('?' * len(top))})",
            [event_id for _, event_id in top],
        )
        by_id = {row[-1]: row[:-1] for row in wide}
        return [(*by_id[event_id], k, event_id) for k, event_id in top if event_id in by_id]

    def _top_by_threshold(
        self, fields: tuple[str, ...], where: str, params: list[Any], expr: str, kind: str,
        descending: bool, limit: int,
    ) -> list[tuple[Any, ...]]:
        # Large pages: find the (limit+1)-th sort value over one column, then materialise and
        # sort only the rows on the near side of it (ties at the threshold are all kept).
        order = "DESC" if descending else "ASC"
        keep = ">=" if descending else "<="
        everything = _EXTREMES[kind][0 if descending else 1]
        return self._fetch(
            f"SELECT {self._select(fields)}, {expr} AS __k, event_id AS __id FROM events{where} "
            f"AND {expr} {keep} coalesce((SELECT {expr} FROM events{where} ORDER BY 1 {order} "
            f"LIMIT 1 OFFSET ?), {everything}) ORDER BY __k {order}, __id {order} LIMIT ?",
            [*params, *params, limit, limit + 1],
        )

    def event(self, event_id: str) -> dict[str, Any] | None:
        """Every stored field of one event, or None."""
        rows = self._fetch(
            f"SELECT {self._select(EVENT_FIELDS)} FROM events WHERE event_id = ?", [event_id]
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
        rows = self._fetch(
            "SELECT article_id, url, title, source, published, text FROM articles "
            "WHERE article_id = ?",
            [article_id],
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
            f"SELECT {self._select(cols)} FROM events WHERE article_id = ? "
            'ORDER BY "start", event_id',
            [article_id],
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

    def stats(self, f: EventFilter) -> dict[str, Any]:
        """Counts of the events matching ``f`` (computed once per filter, then remembered).

        The connection is read-only and DuckDB's file lock keeps writers out while it is open,
        so the counts of a filter cannot change during the life of this object.

        Returns:
            ``total``, ``first_date``/``last_date``, ``by_day`` (``[[date, n], ...]`` in date
            order), ``by_type``, ``by_modality``, ``by_country`` and ``by_actor`` (each
            ``[[value, n], ...]``, largest first; at most :data:`TOP_N` countries and actors,
            an actor counted once per event whichever side it is on).
        """
        with self._lock:
            cached = self._stats_cache.get(f)
            if cached is not None:
                self._stats_cache.move_to_end(f)
                return cached
        result = self._compute_stats(f)
        with self._lock:
            self._stats_cache[f] = result
            while len(self._stats_cache) > STATS_CACHE:
                self._stats_cache.popitem(last=False)
        return result

    def _compute_stats(self, f: EventFilter) -> dict[str, Any]:
        where, params = where_sql(f)
        # One statement: the filter runs once into a narrow materialised set, then each count
        # groups that set. Each actor counts once per event (actor2 only where it differs).
        rows = self._fetch(
            "WITH s AS MATERIALIZED (SELECT event_date, event_type, modality, country, actor1, "
            f"actor2 FROM events{where}) "
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
            "by_actor": groups["actor"],
        }

    def health(self) -> dict[str, Any]:
        """Whether the store answers, with its article and event counts."""
        (n_events,) = self._fetch("SELECT count(*) FROM events")[0]
        (n_articles,) = self._fetch("SELECT count(*) FROM articles")[0]
        return {"status": "ok", "events": int(n_events), "articles": int(n_articles)}
