"""The FastAPI application: REST API under ``/api``, the dashboard at ``/``, docs at ``/docs``.

Routes are thin: they parse parameters with :mod:`eventwire.web.queries`, call one
:class:`~eventwire.web.queries.EventsDB` method and render the result. Every error, whatever
the route, answers with one JSON shape::

    {"error": {"status": 422, "code": "invalid_parameter", "parameter": "bbox",
               "message": "bbox: expected 4 comma-separated numbers, ..."}}

Safety, built in rather than configured: the store is opened read-only; with a token every
``/api`` route and ``/openapi.json`` require it (``Authorization: Bearer TOKEN``); without one
only loopback ``Host`` headers are answered (no DNS rebinding); every response carries a
Content-Security-Policy that allows no inline script and no remote origin (the optional tile
server excepted, for images only).
"""

from __future__ import annotations

import contextlib
import hmac
import html
import json
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..errors import EventwireError, StoreError
from . import render, schemas
from .cache import AnswerCache
from .queries import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_TEXT,
    EventFilter,
    EventsDB,
    Page,
    ParameterError,
    parse_fields,
)
from .queries import parse_filter as _parse_filter
from .safety import check_tiles_url, content_security_policy, is_loopback

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Threads running route bodies at once, per server process.
ROUTE_THREADS = 4
STATIC = Path(str(resources.files("eventwire.web").joinpath("static")))
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

#: Query parameters each list route accepts; anything else is a 422 naming it (typos show).
FILTER_PARAMS = frozenset({
    "type", "modality", "include_hypothetical", "actor", "country", "since", "until", "bbox",
    "near", "q",
})  # fmt: skip
EVENTS_PARAMS = FILTER_PARAMS | {"sort", "limit", "cursor", "format", "fields"}
STATS_PARAMS = FILTER_PARAMS | {"clusters"}


class ApiError(Exception):
    """An error answered with the common JSON shape."""

    def __init__(self, status: int, code: str, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.parameter = parameter


def error_body(
    status: int, code: str, message: str, parameter: str | None = None
) -> dict[str, Any]:
    """The one error shape every route answers with."""
    error: dict[str, Any] = {"status": status, "code": code, "message": message}
    if parameter is not None:
        error["parameter"] = parameter
    return {"error": error}


def _error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(
        error_body(exc.status, exc.code, exc.message, exc.parameter), status_code=exc.status
    )


class _Guard:
    """ASGI middleware: Host and token checks, security headers on every response."""

    def __init__(self, app: ASGIApp, *, token: str | None, csp: str) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(self.headers)
                if path.startswith("/api/"):
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        problem: ApiError | None = None
        if self.token is None:
            host = headers.get(b"host", b"").decode("latin-1")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if host.startswith("[") and "]" in host:
                name = host[1 : host.index("]")]
            if not is_loopback(name):
                problem = ApiError(
                    400, "bad_host",
                    "this server answers only requests addressed to localhost; serve with "
                    "--host and --token to reach it from elsewhere",
                )  # fmt: skip
        elif path.startswith("/api/") or path == "/openapi.json":
            given = headers.get(b"authorization", b"")
            supplied = given[7:].strip() if given[:7].lower() == b"bearer " else b""
            supplied = supplied or headers.get(b"x-eventwire-token", b"")
            if not hmac.compare_digest(supplied, self.token):
                problem = ApiError(
                    401, "unauthorized",
                    "this server needs a token: send 'Authorization: Bearer TOKEN' (in the "
                    "dashboard, open the page as /#token=TOKEN)",
                )  # fmt: skip
        if problem is not None:
            response = _error_response(problem)
            if problem.status == 401:
                response.headers["www-authenticate"] = "Bearer"
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def _json(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Response(body, status_code=status, media_type="application/json")


def _page_response(page: Page, format: str, member: str) -> Response:  # noqa: A002
    """A page of events or clusters as JSON (``{member, next_cursor, count}``), GeoJSON or CSV."""
    headers = {"x-next-cursor": page.next_cursor} if page.next_cursor else {}
    if format == "geojson":
        id_field = "cluster_id" if member == "clusters" else "event_id"
        body = json.dumps(
            render.geojson(page, id_field=id_field), ensure_ascii=False, separators=(",", ":")
        )
        return Response(body, media_type="application/geo+json", headers=headers)
    if format == "csv":
        headers["content-disposition"] = f'attachment; filename="{member}.csv"'
        return Response(
            render.csv_text(page), media_type="text/csv; charset=utf-8", headers=headers
        )
    if page.encoded is not None:
        # Rows already JSON text (from the snapshot): only the envelope is written here.
        cursor = json.dumps(page.next_cursor)
        body = (
            f'{{"{member}":[{",".join(page.encoded)}],"next_cursor":{cursor},'
            f'"count":{len(page.encoded)}}}'
        )
        return Response(body, media_type="application/json", headers=headers)
    response = _json({member: page.rows, "next_cursor": page.next_cursor, "count": len(page.rows)})
    response.headers.update(headers)
    return response


def _check_params(request: Request, allowed: frozenset[str]) -> None:
    for name in request.query_params:
        if name not in allowed:
            raise ApiError(
                422, "invalid_parameter",
                f"{name}: unknown parameter; allowed: {', '.join(sorted(allowed))}", name,
            )  # fmt: skip
    for name, value in request.query_params.multi_items():
        if len(request.query_params.getlist(name)) > 1:
            raise ApiError(
                422, "invalid_parameter",
                f"{name}: given more than once; give one value (lists are comma-separated)", name,
            )  # fmt: skip
        if len(value) > 4000:
            raise ApiError(422, "invalid_parameter", f"{name}: value too long", name)


# Shared parameter declarations, so the OpenAPI document describes every filter once.
P_TYPE = Query(None, description="PLOVER event types, comma-separated, e.g. ASSAULT,PROTEST.",
               max_length=4000)  # fmt: skip
P_MODALITY = Query(None, description="Modalities, comma-separated: reported, ongoing, planned, "
                   "threatened, hypothetical, negated.", max_length=4000)  # fmt: skip
P_HYPO = Query(False, description="Without modality, also return hypothetical and negated "
               "events (left out by default).")  # fmt: skip
P_ACTOR = Query(None, description="Case-insensitive part of actor1 or actor2 (name or text).",
                max_length=MAX_TEXT)  # fmt: skip
P_COUNTRY = Query(None, description="Country where the event happened: ISO 3166 alpha-3 or "
                  "alpha-2 codes or names, comma-separated.", max_length=4000)  # fmt: skip
P_SINCE = Query(None, description="First event date included, YYYY-MM-DD.", max_length=10)
P_UNTIL = Query(None, description="Last event date included, YYYY-MM-DD.", max_length=10)
P_BBOX = Query(None, description="west,south,east,north in degrees (WGS84).", max_length=200)
P_NEAR = Query(None, description="lat,lon,km: within km of a point.", max_length=200)
P_Q = Query(None, description="Case-insensitive text the sentence contains.",
            max_length=MAX_TEXT)  # fmt: skip


async def _filters(
    type: str | None = P_TYPE,  # noqa: A002
    modality: str | None = P_MODALITY,
    include_hypothetical: bool = P_HYPO,
    actor: str | None = P_ACTOR,
    country: str | None = P_COUNTRY,
    since: str | None = P_SINCE,
    until: str | None = P_UNTIL,
    bbox: str | None = P_BBOX,
    near: str | None = P_NEAR,
    q: str | None = P_Q,
) -> Any:
    """The filters /api/events, /api/clusters and /api/stats share, parsed and checked
    (``async``: cheap enough for the event loop, no trip through the thread pool)."""
    return _parse_filter(
        type=type, modality=modality, include_hypothetical=include_hypothetical,
        actor=actor, country=country, since=since, until=until, bbox=bbox, near=near, q=q,
    )  # fmt: skip


#: The shared filters as a route parameter.
FILTERS = Depends(_filters)


@dataclass(frozen=True)
class _Paging:
    limit: int
    cursor: str | None
    format: str


async def _paging(
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size."),
    cursor: str | None = Query(
        None, description="next_cursor of the previous page.", max_length=1000
    ),
    format: str = Query(  # noqa: A002
        "json", pattern="^(json|geojson|csv)$", description="json, geojson or csv."
    ),
) -> _Paging:
    """Page size, cursor and format of /api/events and /api/clusters."""
    return _Paging(limit, cursor, format)


#: The shared paging parameters as a route parameter.
PAGING = Depends(_paging)


def create_app(
    db_path: str | Path,
    *,
    token: str | None = None,
    tiles_url: str | None = None,
    snapshot_dir: str | Path | None = None,
) -> Any:
    """The ASGI application serving one store, read-only.

    Args:
        db_path: The store's DuckDB file. It is never held open: answers come from a copy
            taken again whenever the store changes (see :mod:`eventwire.web.snapshot`), so
            ``ingest`` and ``watch`` can write while the server runs.
        token: When given, every ``/api`` route requires it and any Host header is accepted;
            when None, only loopback Host headers are answered.
        tiles_url: Optional tile URL template for an online base map (e.g.
            ``https://tile.openstreetmap.org/{z}/{x}/{y}.png``); the bundled country outline
            is always drawn.
        snapshot_dir: Directory the processes of one server share for the store's copies;
            a private temporary one when None.

    Returns:
        The application (FastAPI, wrapped in the safety middleware).

    Raises:
        StoreError: The store cannot be opened read-only.
        OptionsError: ``tiles_url`` is not a valid template.
    """
    tiles_url = check_tiles_url(tiles_url)
    db = EventsDB(db_path, snapshot_dir=snapshot_dir)
    db.stats(EventFilter())  # what the dashboard asks first: ready before the first visitor

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Routes run in worker threads; a few are enough to keep the cores busy (DuckDB drops
        # the GIL while it works), and dozens only fight over the GIL.
        anyio.to_thread.current_default_thread_limiter().total_tokens = ROUTE_THREADS
        yield
        db.close()

    app = FastAPI(
        lifespan=lifespan,
        title="eventwire",
        version=__version__,
        description="Events extracted from news: who did what to whom, where and when. "
        "Read-only. Every error answers with one JSON shape: "
        '`{"error": {"status", "code", "message", "parameter"?}}`.',
        docs_url=None,
        redoc_url=None,
    )
    app.state.db = db
    index_html = (
        (STATIC / "index.html")
        .read_text(encoding="utf-8")
        .replace("{{TILES_URL}}", html.escape(tiles_url or "", quote=True))
    )

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error_response(exc)

    @app.exception_handler(ParameterError)
    async def _param_error(request: Request, exc: ParameterError) -> JSONResponse:
        return _error_response(ApiError(422, "invalid_parameter", str(exc), exc.parameter))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body")]
        name = loc[0] if loc else "request"
        why = first.get("msg", "invalid value")
        return _error_response(ApiError(422, "invalid_parameter", f"{name}: {why}", name))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route or file at {request.url.path}; the API is under /api, see /docs"
        return _error_response(
            ApiError(exc.status_code, codes.get(exc.status_code, "http_error"), message)
        )

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError) -> JSONResponse:
        return _error_response(ApiError(503, "store_unavailable", str(exc)))

    @app.exception_handler(EventwireError)
    async def _eventwire_error(request: Request, exc: EventwireError) -> JSONResponse:
        return _error_response(ApiError(422, "invalid_request", str(exc)))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _error_response(
            ApiError(500, "internal_error", "unexpected server error; see the server's log")
        )

    @app.get(
        "/api/health", tags=["api"], summary="Whether the store answers",
        responses=schemas.responses(schemas.Health, 503),
    )  # fmt: skip
    async def health() -> Response:
        """Status, event and article counts, server version and time."""
        # No query: answered on the event loop, not queued behind slow requests for a thread
        # (copying a changed store is the one blocking step, done in a thread).
        if db.changed():
            await anyio.to_thread.run_sync(db.refresh)
        data = db.health()
        data["version"] = __version__
        data["time"] = datetime.now(UTC).isoformat()
        return _json(data)

    @app.get(
        "/api/events",
        tags=["api"],
        summary="Events matching filters, one page at a time",
        responses={
            **schemas.responses(None, 422),
            200: {
                "model": schemas.EventsPage,
                "description": "JSON `{events, next_cursor, count}`; with format=geojson a "
                "FeatureCollection (`next_cursor` as a member); with format=csv a header row of "
                "field names (next cursor in the X-Next-Cursor header).",
                "content": {"application/geo+json": {}, "text/csv": {}},
            },
        },
    )  # fmt: skip
    def events(
        request: Request,
        filt: Any = FILTERS,
        sort: str = Query(
            "-event_date",
            description="event_date, published, confidence or "
            "fatalities; a leading - sorts descending.",
            max_length=40,
        ),
        paging: Any = PAGING,
        fields: str | None = Query(
            None,
            description="Event fields to return, comma-separated (default: the export keys).",
            max_length=4000,
        ),
    ) -> Response:
        """Filter, sort and page through events (cursor pagination: pass `next_cursor` back)."""
        _check_params(request, EVENTS_PARAMS)
        page = db.events(
            filt, sort=sort, limit=paging.limit, cursor=paging.cursor,
            fields=parse_fields(fields), encoded=paging.format == "json",
        )  # fmt: skip
        return _page_response(page, paging.format, "events")

    @app.get(
        "/api/clusters",
        tags=["api"],
        summary="Merged events (one record per real event, with its reports), one page at a time",
        responses={
            **schemas.responses(None, 422),
            200: {
                "model": schemas.ClustersPage,
                "description": "JSON `{clusters, next_cursor, count}`; with format=geojson a "
                "FeatureCollection (`next_cursor` as a member); with format=csv a header row of "
                "field names (next cursor in the X-Next-Cursor header).",
                "content": {"application/geo+json": {}, "text/csv": {}},
            },
        },
    )  # fmt: skip
    def clusters(
        request: Request,
        filt: Any = FILTERS,
        sort: str = Query(
            "-event_date",
            description="event_date, published, confidence, "
            "fatalities or report_count; a leading - sorts descending.",
            max_length=40,
        ),
        paging: Any = PAGING,
        fields: str | None = Query(
            None,
            description="Fields to return, comma-separated "
            "(default: the cluster export keys; also sources, urls, "
            "event_ids).",
            max_length=4000,
        ),
    ) -> Response:
        """Reports of one real event merged across articles: the canonical record (most
        precise place and date, largest credible fatality figure) with `cluster_id`,
        `report_count` and `source` (every outlet). Filters apply to the canonical record,
        as in `eventwire events --clusters`; paging as in /api/events."""
        _check_params(request, EVENTS_PARAMS)
        page = db.clusters(
            filt, sort=sort, limit=paging.limit, cursor=paging.cursor,
            fields=parse_fields(fields, clusters=True), encoded=paging.format == "json",
        )  # fmt: skip
        return _page_response(page, paging.format, "clusters")

    @app.get(
        "/api/events/{event_id}", tags=["api"], summary="One event, every stored field",
        responses=schemas.responses(schemas.EventDetail, 404),
    )  # fmt: skip
    def event(event_id: str) -> Response:
        """Every stored field of one event, evidence offsets included."""
        found = db.event(event_id) if len(event_id) <= 200 else None
        if found is None:
            raise ApiError(404, "not_found", f"no event with id {event_id[:200]!r}")
        return _json(found)

    @app.get(
        "/api/articles/{article_id}",
        tags=["api"],
        summary="One article: text and the offsets of every event's evidence",
        responses=schemas.responses(schemas.ArticleOut, 404),
    )
    def article(article_id: str) -> Response:
        """The article text with, per event, the spans of its sentence, trigger, actors, place."""
        found = db.article(article_id) if len(article_id) <= 200 else None
        if found is None:
            raise ApiError(404, "not_found", f"no article with id {article_id[:200]!r}")
        return _json(found)

    @app.get(
        "/api/stats", tags=["api"], summary="Counts by day, type, modality, country, actor",
        responses=schemas.responses(schemas.Stats, 422),
    )  # fmt: skip
    def stats(
        request: Request,
        filt: Any = FILTERS,
        clusters: bool = Query(
            False, description="Count merged events (/api/clusters) instead of reports."
        ),
    ) -> Response:
        """Counts of the events (or merged events) matching the same filters as /api/events."""
        _check_params(request, STATS_PARAMS)
        return _json(db.stats(filt, clusters=clusters))

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(index_html)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(render_docs(app.openapi()))

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Big pages (the map's 10,000 events are ~3 MB of JSON) shrink ~6x at the fastest level;
    # answers up to a few hundred events are sent as they are: compressing 70 kB costs about
    # half a millisecond of CPU, more than sending it takes on a local network.
    app.add_middleware(GZipMiddleware, minimum_size=256_000, compresslevel=1)
    return _Guard(AnswerCache(app, db), token=token, csp=content_security_policy(tiles_url))


def render_docs(spec: dict[str, Any]) -> str:
    """A plain HTML page documenting the API from its OpenAPI document (no script needed)."""
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(spec['info']['title'])} API</title>",
        "<link rel='stylesheet' href='/static/app.css'></head><body class='docs'>",
        f"<h1>{e(spec['info']['title'])} {e(spec['info']['version'])} — REST API</h1>",
        f"<p>{e(spec['info'].get('description', ''))}</p>",
        "<p>Machine-readable: <a href='/openapi.json'>/openapi.json</a>. "
        "Dashboard: <a href='/'>/</a>.</p>",
    ]
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            parts.append(f"<section><h2><code>{e(method.upper())} {e(path)}</code></h2>")
            parts.append(f"<p><b>{e(op.get('summary', ''))}</b></p>")
            if op.get("description"):
                parts.append(f"<p>{e(op['description'])}</p>")
            params = op.get("parameters", [])
            if params:
                parts.append("<table><tr><th>parameter</th><th>in</th><th>type</th>"
                             "<th>default</th><th>description</th></tr>")  # fmt: skip
                for p in params:
                    schema = p.get("schema", {})
                    kinds = [s.get("type", "") for s in schema.get("anyOf", [schema])]
                    kind = " | ".join(k for k in kinds if k and k != "null")
                    default = schema.get("default", "")
                    parts.append(
                        f"<tr><td><code>{e(p['name'])}</code>"
                        f"{' (required)' if p.get('required') else ''}</td>"
                        f"<td>{e(p.get('in', ''))}</td><td>{e(kind)}</td>"
                        f"<td>{e(str(default)) if default is not None else ''}</td>"
                        f"<td>{e(p.get('description', ''))}</td></tr>"
                    )
                parts.append("</table>")
            parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts)
