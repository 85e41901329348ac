"""REST API through the in-process ASGI client, over a real store written by eventwire.open."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("fastapi", reason="web extra not installed: pip install 'eventwire[web]'")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx2; httpx is what we pin
    from fastapi.testclient import TestClient

from eventwire.config import Options
from eventwire.errors import OptionsError, StoreError
from eventwire.model import CLUSTER_KEYS, EVENT_FIELDS, EVENT_KEYS, Article
from eventwire.web.app import create_app
from eventwire.web.cli import check_serve_options
from eventwire.web.queries import (
    MAX_LIMIT,
    SORTS,
    EventsDB,
    decode_cursor,
    encode_cursor,
    parse_filter,
)
from eventwire.web.safety import content_security_policy, is_loopback

from .web_fixtures import (
    ARTICLES,
    HOSTILE_SENTENCE,
    SECOND_REPORT,
    Spec,
    all_specs,
    build_cluster_store,
    build_store,
    make_events,
    visible,
)

TOKEN = "s3cret-token-for-tests-0123456789"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory, session_options: Options) -> Path:
    """The fixture store, written once for the module."""
    return build_store(tmp_path_factory.mktemp("webapi") / "events.duckdb", session_options)


@pytest.fixture(scope="module")
def client(store_path: Path) -> Iterator[TestClient]:
    """An in-process client of the app, as a browser on this machine would address it."""
    with TestClient(create_app(store_path), base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.fixture(scope="module")
def token_client(store_path: Path) -> Iterator[TestClient]:
    """A client of an app that requires :data:`TOKEN`, addressed by a non-loopback name."""
    with TestClient(create_app(store_path, token=TOKEN), base_url="http://events.example") as c:
        yield c


def sentences(body: dict[str, Any]) -> set[str]:
    return {e["sentence"] for e in body["events"]}


def expect(pred: Callable[[Spec], bool], specs: list[Spec] | None = None) -> set[str]:
    return {s.sentence for s in (visible(all_specs()) if specs is None else specs) if pred(s)}


def assert_error(response: Any, status: int, parameter: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["status"] == status
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if parameter is not None:
        assert error["parameter"] == parameter
        assert parameter in error["message"]
    return error


# ------------------------------------------------------------------------------ health, basics


def test_health_counts_the_store(client: TestClient) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["events"] == len(all_specs())
    assert body["articles"] == len(ARTICLES)


def test_events_default_page_leaves_out_hypothetical_and_negated(client: TestClient) -> None:
    body = client.get("/api/events").json()
    assert body["count"] == len(body["events"]) == len(visible(all_specs()))
    assert sentences(body) == expect(lambda s: True)
    assert body["next_cursor"] is None
    assert all(list(e) == list(EVENT_KEYS) for e in body["events"])


def test_default_sort_is_newest_first_with_undated_last(client: TestClient) -> None:
    events = client.get("/api/events").json()["events"]
    dates = [e["event_date"] for e in events]
    dated = [d for d in dates if d is not None]
    assert dated == sorted(dated, reverse=True)
    assert dates[-1] is None


# ------------------------------------------------------------------------------ every filter


def _in_bbox(s: Spec, w: float, so: float, e: float, n: float) -> bool:
    return s.place is not None and so <= s.place[1] <= n and w <= s.place[2] <= e


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


FILTER_CASES: list[tuple[str, dict[str, str], Callable[[Spec], bool], bool]] = [
    ("type", {"type": "ASSAULT"}, lambda s: s.event_type == "ASSAULT", False),
    ("type any case", {"type": "protest"}, lambda s: s.event_type == "PROTEST", False),
    ("type list", {"type": "ASSAULT,AGREE"}, lambda s: s.event_type in ("ASSAULT", "AGREE"), False),
    ("modality", {"modality": "hypothetical"}, lambda s: s.modality == "hypothetical", True),
    ("modality list", {"modality": "negated,ongoing"},
     lambda s: s.modality in ("negated", "ongoing"), True),
    ("include_hypothetical", {"include_hypothetical": "true"}, lambda s: True, True),
    ("actor either side", {"actor": "iran"},
     lambda s: "iran" in f"{s.actor1} {s.actor2}".lower(), False),
    ("actor part", {"actor": "MILITARY"},
     lambda s: "military" in f"{s.actor1} {s.actor2}".lower(), False),
    ("country alpha-3", {"country": "SYR"}, lambda s: s.place is not None and s.place[3] == "SYR",
     False),
    ("country alpha-2", {"country": "lb"}, lambda s: s.place is not None and s.place[3] == "LBN",
     False),
    ("country name", {"country": "Syria"}, lambda s: s.place is not None and s.place[3] == "SYR",
     False),
    ("country list", {"country": "SYR,LBN"}, lambda s: s.place is not None, False),
    ("since", {"since": "2020-12-08"}, lambda s: s.day is not None and s.day >= "2020-12-08",
     False),
    ("until", {"until": "2020-12-01"}, lambda s: s.day is not None and s.day <= "2020-12-01",
     False),
    ("since and until", {"since": "2020-12-07", "until": "2020-12-09"},
     lambda s: s.day is not None and "2020-12-07" <= s.day <= "2020-12-09", False),
    ("bbox", {"bbox": "36.0,35.5,37.0,36.5"}, lambda s: _in_bbox(s, 36.0, 35.5, 37.0, 36.5),
     False),
    ("bbox across the antimeridian", {"bbox": "170,-10,-170,10"}, lambda s: False, False),
    ("near", {"near": "35.68,36.53,10"},
     lambda s: s.place is not None and _km(35.68, 36.53, s.place[1], s.place[2]) <= 10, False),
    ("q", {"q": "BEIRUT"}, lambda s: "beirut" in s.sentence.lower(), False),
    ("q percent is literal", {"q": "%"}, lambda s: "%" in s.sentence, False),
    ("q underscore is literal", {"q": "_"}, lambda s: "_" in s.sentence, False),
    ("combined", {"type": "ASSAULT", "since": "2020-12-10", "country": "SYR"},
     lambda s: s.event_type == "ASSAULT" and s.day == "2020-12-10", False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("params", "pred", "all_modalities"),
    [c[1:] for c in FILTER_CASES],
    ids=[c[0] for c in FILTER_CASES],
)
def test_each_filter_returns_exactly_the_matching_events(
    client: TestClient, params: dict[str, str], pred: Callable[[Spec], bool], all_modalities: bool
) -> None:
    body = client.get("/api/events", params=params).json()
    specs = all_specs() if all_modalities else None
    assert sentences(body) == expect(pred, specs)
    stats = client.get("/api/stats", params=params).json()
    assert stats["total"] == len(body["events"])


def test_filters_that_match_something_are_not_vacuous(client: TestClient) -> None:
    # Guard against a fixture edit making the cases above pass on empty results.
    non_empty = [c[0] for c in FILTER_CASES if expect(c[2], all_specs() if c[3] else None)]
    assert len(non_empty) >= len(FILTER_CASES) - 2


# ------------------------------------------------------------------------------ pagination


@pytest.mark.parametrize(
    "sort",
    ["-event_date", "event_date", "confidence", "-confidence", "fatalities", "-fatalities",
     "published", "-published"],
)  # fmt: skip
@pytest.mark.parametrize("limit", [1, 3])
def test_cursor_pagination_reaches_the_end_in_order(
    client: TestClient, sort: str, limit: int
) -> None:
    params = {"sort": sort, "limit": str(limit), "include_hypothetical": "true"}
    whole = client.get("/api/events", params={**params, "limit": "100"}).json()["events"]
    seen: list[str] = []
    cursor = None
    for _ in range(50):
        page = client.get(
            "/api/events", params={**params, **({"cursor": cursor} if cursor else {})}
        ).json()
        assert len(page["events"]) <= limit
        seen += [e["event_id"] for e in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [e["event_id"] for e in whole]
    assert len(seen) == len(set(seen)) == len(all_specs())
    key = sort.lstrip("-")
    values = [e[key] for e in whole if e[key] is not None]
    assert values == sorted(values, reverse=sort.startswith("-"))


def test_a_cursor_is_bound_to_its_sort(client: TestClient) -> None:
    cursor = client.get("/api/events", params={"limit": 1}).json()["next_cursor"]
    assert cursor
    assert_error(
        client.get("/api/events", params={"limit": 1, "cursor": cursor, "sort": "confidence"}),
        422, "cursor",
    )  # fmt: skip


@pytest.mark.parametrize("cursor", ["garbage", "!!!", "W10", encode_cursor("event_date", 5, "x")])
def test_bad_cursors_are_422(client: TestClient, cursor: str) -> None:
    assert_error(client.get("/api/events", params={"cursor": cursor}), 422, "cursor")


def test_cursor_round_trip() -> None:
    cursor = encode_cursor("event_date", date(2020, 1, 2), "e1")
    value, event_id = decode_cursor(cursor, "-event_date")
    assert (value, event_id) == (date(2020, 1, 2), "e1")


def test_page_size_is_bounded(client: TestClient) -> None:
    assert client.get("/api/events", params={"limit": MAX_LIMIT}).status_code == 200
    assert_error(client.get("/api/events", params={"limit": MAX_LIMIT + 1}), 422, "limit")
    assert_error(client.get("/api/events", params={"limit": 0}), 422, "limit")


# ------------------------------------------------------------------------------ formats


def test_geojson_format(client: TestClient) -> None:
    response = client.get("/api/events", params={"format": "geojson", "limit": 3})
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == 3 and body["next_cursor"]
    for feature in body["features"]:
        props = feature["properties"]
        assert feature["id"] == props["event_id"]
        if props["latitude"] is None:
            assert feature["geometry"] is None
        else:
            assert feature["geometry"] == {
                "type": "Point", "coordinates": [props["longitude"], props["latitude"]]
            }
    everything = client.get("/api/events", params={"format": "geojson"}).json()["features"]
    with_point = [s for s in visible(all_specs()) if s.place]
    assert sum(f["geometry"] is not None for f in everything) == len(with_point)


def test_csv_format(client: TestClient) -> None:
    response = client.get("/api/events", params={"format": "csv", "limit": 2})
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["x-next-cursor"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == list(EVENT_KEYS)
    assert len(rows) == 3
    full = list(csv.DictReader(io.StringIO(client.get("/api/events?format=csv").text)))
    assert {r["sentence"] for r in full} == expect(lambda s: True)
    assert "x-next-cursor" not in client.get("/api/events?format=csv").headers


def test_csv_cells_cannot_become_spreadsheet_formulas(client: TestClient) -> None:
    rows = list(csv.DictReader(io.StringIO(client.get("/api/events?format=csv&q=script").text)))
    assert rows and all(not r["sentence"].startswith(("=", "+", "-", "@")) for r in rows)


def test_big_answers_are_compressed_small_ones_not(many_path: Path) -> None:
    with TestClient(create_app(many_path), base_url="http://127.0.0.1") as c:
        big = c.get("/api/events?limit=2000", headers={"accept-encoding": "gzip"})
        small = c.get("/api/events?limit=2", headers={"accept-encoding": "gzip"})
    assert big.headers.get("content-encoding") == "gzip"
    assert len(big.json()["events"]) == 2000
    assert "content-encoding" not in small.headers
    assert "content-security-policy" in big.headers


def test_fields_selects_columns(client: TestClient) -> None:
    body = client.get("/api/events", params={"fields": "event_id,trigger,latitude"}).json()
    assert all(list(e) == ["event_id", "trigger", "latitude"] for e in body["events"])
    assert_error(client.get("/api/events", params={"fields": "event_id,nope"}), 422, "fields")


# ------------------------------------------------------------------------------ one event, article


def test_event_by_id_has_every_field(client: TestClient) -> None:
    first = client.get("/api/events", params={"type": "ASSAULT", "sort": "-confidence"}).json()
    event_id = first["events"][0]["event_id"]
    event = client.get(f"/api/events/{event_id}").json()
    assert set(event) == set(EVENT_FIELDS)
    assert event["sentence"] == "The Syrian army shelled Barah."
    assert event["fatalities"] == 3 and event["place"] == "Barah"
    assert event["event_date"] == "2020-12-10"


def test_article_offsets_index_its_text(client: TestClient) -> None:
    ids = {e["article_id"] for e in client.get("/api/events?include_hypothetical=true").json()[
        "events"]}
    assert len(ids) == len(ARTICLES)
    roles_seen: set[str] = set()
    for article_id in ids:
        article = client.get(f"/api/articles/{article_id}").json()
        text = article["text"]
        specs = ARTICLES[article["title"]][1]
        assert len(article["events"]) == len(specs)
        for ev in article["events"]:
            for span in ev["spans"]:
                roles_seen.add(span["role"])
                piece = text[span["start"]:span["end"]]
                assert piece
                if span["role"] == "sentence":
                    assert piece in {s.sentence for s in specs}
    assert roles_seen == {"sentence", "trigger", "actor1", "actor2", "place"}


@pytest.mark.parametrize(
    "path", ["/api/events/nope", "/api/articles/nope", "/api/events/" + "x" * 500, "/api/nope"]
)
def test_missing_things_are_404_in_the_error_shape(client: TestClient, path: str) -> None:
    assert_error(client.get(path), 404)


def test_wrong_method_is_405_in_the_error_shape(client: TestClient) -> None:
    assert_error(client.post("/api/events"), 405)
    assert_error(client.delete("/api/events/x"), 405)


# ------------------------------------------------------------------------------ stats


def test_stats_counts(client: TestClient) -> None:
    stats = client.get("/api/stats").json()
    shown = visible(all_specs())
    assert stats["total"] == len(shown)
    by_type: dict[str, int] = {}
    for s in shown:
        by_type[s.event_type] = by_type.get(s.event_type, 0) + 1
    assert dict(stats["by_type"]) == by_type
    days = sorted({s.day for s in shown if s.day})
    assert [d for d, _ in stats["by_day"]] == days
    assert sum(n for _, n in stats["by_day"]) == sum(1 for s in shown if s.day)
    assert (stats["first_date"], stats["last_date"]) == (days[0], days[-1])
    assert dict(stats["by_country"]) == {"SYR": 4, "LBN": 1, "unknown": 3}
    actors = dict(stats["by_actor"])
    assert actors["Syria (military)"] == 2 and actors["Lebanon"] == 2
    counts = [n for _, n in stats["by_type"]]
    assert counts == sorted(counts, reverse=True)


def test_stats_of_an_empty_selection(client: TestClient) -> None:
    stats = client.get("/api/stats", params={"q": "no sentence says this"}).json()
    assert stats == {
        "total": 0, "first_date": None, "last_date": None, "by_day": [], "by_type": [],
        "by_modality": [], "by_country": [], "by_actor": [],
    }  # fmt: skip


# ------------------------------------------------------------------------------ invalid input


BAD_PARAMS: list[tuple[dict[str, str], str]] = [
    ({"type": "BOMB"}, "type"),
    ({"type": ",".join(["ASSAULT"] * 40)}, "type"),
    ({"modality": "maybe"}, "modality"),
    ({"include_hypothetical": "perhaps"}, "include_hypothetical"),
    ({"actor": "   "}, "actor"),
    ({"actor": "x" * 201}, "actor"),
    ({"country": "Atlantis"}, "country"),
    ({"since": "2020-13-01"}, "since"),
    ({"until": "yesterday"}, "until"),
    ({"since": "2020-12-10", "until": "2020-12-01"}, "since"),
    ({"bbox": "1,2,3"}, "bbox"),
    ({"bbox": "a,b,c,d"}, "bbox"),
    ({"bbox": "0,0,10,91"}, "bbox"),
    ({"bbox": "-181,0,10,10"}, "bbox"),
    ({"bbox": "0,10,10,0"}, "bbox"),
    ({"bbox": "nan,0,1,1"}, "bbox"),
    ({"near": "35,36"}, "near"),
    ({"near": "35,36,0"}, "near"),
    ({"near": "35,36,20001"}, "near"),
    ({"near": "95,36,10"}, "near"),
    ({"near": "35,inf,10"}, "near"),
    ({"q": ""}, "q"),
    ({"sort": "sentence"}, "sort"),
    ({"sort": "-nope"}, "sort"),
    ({"limit": "many"}, "limit"),
    ({"format": "xml"}, "format"),
    ({"tpye": "ASSAULT"}, "tpye"),
]


@pytest.mark.parametrize(("params", "parameter"), BAD_PARAMS, ids=[b[1] for b in BAD_PARAMS])
def test_invalid_parameters_are_422_naming_the_parameter(
    client: TestClient, params: dict[str, str], parameter: str
) -> None:
    assert_error(client.get("/api/events", params=params), 422, parameter)
    if parameter not in ("sort", "limit", "format", "tpye"):
        assert_error(client.get("/api/stats", params=params), 422, parameter)


def test_a_repeated_parameter_is_422(client: TestClient) -> None:
    assert_error(client.get("/api/events?type=ASSAULT&type=PROTEST"), 422, "type")


HOSTILE = [
    "'; DROP TABLE events; --",
    "\" OR 1=1 --",
    "%' OR '1'='1",
    "Robert'); DELETE FROM articles; --",
    "\\",
    "<script>alert(1)</script>",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ü",
    "1) UNION SELECT * FROM articles --",
]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    "name", ["type", "modality", "actor", "country", "since", "until", "bbox", "near", "q",
             "sort", "cursor", "fields"],
)  # fmt: skip
def test_hostile_strings_in_every_filter_are_inert(
    client: TestClient, name: str, value: str
) -> None:
    response = client.get("/api/events", params={name: value})
    if response.status_code == 200:
        body = response.json()
        # Free-text filters treat the string literally: nothing in the fixture matches it.
        assert body["events"] == [] or name in ("q", "actor") and all(
            value.lower() in (e["sentence"] + str(e["actor1"]) + str(e["actor2"])).lower()
            for e in body["events"]
        )
    else:
        assert_error(response, 422, name)
    health = client.get("/api/health").json()
    assert (health["events"], health["articles"]) == (len(all_specs()), len(ARTICLES))


def test_the_server_connection_cannot_write(store_path: Path) -> None:
    db = EventsDB(store_path)
    try:
        with pytest.raises(StoreError):
            db._fetch("DELETE FROM events")
    finally:
        db.close()
    assert EventsDB(store_path).health()["events"] == len(all_specs())


def _add_article(store: Any, title: str, day: str) -> None:
    spec = Spec("ASSAULT", "reported", day, ("Saraqib", 35.86, 36.80, "SYR"), "rebels", None,
                f"Rebels shelled Saraqib ({title}).", 0.7)  # fmt: skip
    published = datetime.fromisoformat(day).replace(tzinfo=UTC)
    events = make_events(spec.sentence, [spec], published, f"https://news.example/{title}")
    store.add(Article(spec.sentence, title=title, url=f"https://news.example/{title}",
                      published=published), events, pipeline_version="test")  # fmt: skip


def test_writers_write_while_serving_and_answers_follow_the_store(
    store_path: Path, tmp_path: Path, session_options: Options
) -> None:
    """The server never holds the store: ingest can write while it runs, and the next request
    after a write sees it (remembered answers included); while a writer still holds the store,
    the last content read is served and health says so."""
    import eventwire

    path = tmp_path / "live.duckdb"
    shutil.copyfile(store_path, path)
    before = len(visible(all_specs()))
    with TestClient(create_app(path), base_url="http://127.0.0.1") as c:
        first = c.get("/api/events", params={"limit": 500})
        assert first.json()["count"] == before
        assert c.get("/api/events", params={"limit": 500}).headers["x-eventwire-cache"] == "hit"
        version = c.get("/api/health").json()["data_version"]
        with eventwire.open(path, options=session_options) as store:  # a writer opens it
            _add_article(store, "saraqib-1", "2020-12-11")
            held = c.get("/api/events", params={"limit": 500})
            assert held.status_code == 200 and held.json()["count"] == before
            health = c.get("/api/health").json()
            assert health["status"] == "stale" and "written" in health["problem"]
            assert health["data_version"] == version
        after = c.get("/api/events", params={"limit": 500})
        assert after.headers["x-eventwire-cache"] == "miss"
        assert after.json()["count"] == before + 1
        assert after.json()["events"][0]["sentence"] == "Rebels shelled Saraqib (saraqib-1)."
        health = c.get("/api/health").json()
        assert health["status"] == "ok" and health["data_version"] != version
        assert health["articles"] == len(ARTICLES) + 1
        stats = c.get("/api/stats").json()
        assert stats["total"] == before + 1 and stats["last_date"] == "2020-12-11"
        with eventwire.open(path, options=session_options) as store:  # and again
            _add_article(store, "saraqib-2", "2020-12-12")
        assert c.get("/api/events", params={"limit": 500}).json()["count"] == before + 2


# ------------------------------------------------------------------------------ safety


def test_page_and_docs_carry_a_strict_csp(client: TestClient) -> None:
    for path in ("/", "/docs", "/api/health", "/static/app.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        csp = response.headers["content-security-policy"]
        assert "script-src 'self';" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "http:" not in csp and "https:" not in csp
        assert "default-src 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
    page = client.get("/").text
    assert "GeoNames" in page and "Who's On First" in page and "OCHA" in page


def test_the_page_has_no_inline_script_or_handlers(client: TestClient) -> None:
    import re

    page = client.get("/").text
    assert re.findall(r"<script[^>]*>", page) == [
        f'<script src="/static/{p}">' for p in (
            "vendor/leaflet/leaflet.js", "vendor/markercluster/leaflet.markercluster.js",
            "vendor/topojson/topojson-client.min.js", "app.js",
        )
    ]  # fmt: skip
    assert re.search(r"<script[^>]*>[^<]", page) is None
    assert re.search(r"\son[a-z]+\s*=", page) is None
    assert re.search(r"""(src|href)=["']https?://""", page.split("<footer")[0]) is None


def test_tiles_url_is_the_only_remote_origin_allowed(store_path: Path) -> None:
    app = create_app(store_path, tiles_url="https://tiles.example.org/{z}/{x}/{y}.png")
    with TestClient(app, base_url="http://localhost") as c:
        response = c.get("/")
    assert 'content="https://tiles.example.org/{z}/{x}/{y}.png"' in response.text
    assert "img-src 'self' data: https://tiles.example.org;" in (
        response.headers["content-security-policy"]
    )
    assert content_security_policy().count("https://") == 0
    for bad in ("javascript:alert(1)//{z}{x}{y}", "https://t.example/tile.png",
                'https://t.example/{z}/{x}/{y}.png"><script>'):  # fmt: skip
        with pytest.raises(OptionsError):
            create_app(store_path, tiles_url=bad)


@pytest.mark.parametrize(
    "path",
    ["/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py",
     "/static/vendor/../../queries.py", "/static/%2e%2e/%2e%2e/store.py", "/static//etc/passwd"],
)  # fmt: skip
def test_no_path_traversal_out_of_static(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "import" not in response.text and "root:" not in response.text


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.evil.example", "10.0.0.5:8000"])
def test_without_token_only_loopback_host_headers_are_answered(
    client: TestClient, host: str
) -> None:
    assert_error(client.get("/api/health", headers={"host": host}), 400)
    assert_error(client.get("/", headers={"host": host}), 400)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST:1"])
def test_loopback_host_headers_are_answered(client: TestClient, host: str) -> None:
    assert client.get("/api/health", headers={"host": host}).status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/health", "/api/events", "/api/stats", "/api/events/x", "/api/articles/x",
             "/openapi.json"],
)  # fmt: skip
def test_with_a_token_every_api_route_requires_it(token_client: TestClient, path: str) -> None:
    error = assert_error(token_client.get(path), 401)
    assert "token" in error["message"].lower()
    assert_error(token_client.get(path, headers={"authorization": "Bearer wrong"}), 401)
    assert_error(token_client.get(path, headers={"authorization": f"Basic {TOKEN}"}), 401)
    good = token_client.get(path, headers={"authorization": f"Bearer {TOKEN}"})
    assert good.status_code in (200, 404)
    assert token_client.get(path, headers={"x-eventwire-token": TOKEN}).status_code in (200, 404)


def test_with_a_token_the_page_itself_loads(token_client: TestClient) -> None:
    assert token_client.get("/").status_code == 200
    assert token_client.get("/static/app.js").status_code == 200


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True),
     ("127.0.0.2", True), ("0.0.0.0", False), ("::", False), ("192.168.1.4", False),
     ("example.org", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serving_off_loopback_needs_a_token() -> None:
    check_serve_options("127.0.0.1", 8000, None)
    check_serve_options("0.0.0.0", 8000, TOKEN)
    with pytest.raises(OptionsError, match="--token"):
        check_serve_options("0.0.0.0", 8000, None)
    with pytest.raises(OptionsError, match="16 characters"):
        check_serve_options("0.0.0.0", 8000, "short")
    with pytest.raises(OptionsError, match="--port"):
        check_serve_options("127.0.0.1", 70000, None)


def test_missing_or_foreign_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        create_app(tmp_path / "none.duckdb")
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    with pytest.raises(StoreError, match="not an eventwire store"):
        create_app(other)
    text = tmp_path / "text.duckdb"
    text.write_text("hello")
    with pytest.raises(StoreError):
        create_app(text)


# ------------------------------------------------------------------------------ docs


def test_openapi_and_docs_describe_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert paths == {
        "/api/health", "/api/events", "/api/events/{event_id}", "/api/articles/{article_id}",
        "/api/stats", "/api/clusters",
    }  # fmt: skip
    for route in ("/api/events", "/api/clusters"):
        params = {p["name"] for p in spec["paths"][route]["get"]["parameters"]}
        assert params == {"type", "modality", "include_hypothetical", "actor", "country",
                          "since", "until", "bbox", "near", "q", "sort", "limit", "cursor",
                          "format", "fields"}  # fmt: skip
    stats_params = {p["name"] for p in spec["paths"]["/api/stats"]["get"]["parameters"]}
    assert "clusters" in stats_params and "limit" not in stats_params
    schemas = spec["components"]["schemas"]
    assert list(schemas["EventRecord"]["properties"]) == list(EVENT_KEYS)
    assert list(schemas["ClusterRecord"]["properties"]) == [
        *CLUSTER_KEYS, "sources", "urls", "event_ids"
    ]
    assert set(schemas["EventDetail"]["properties"]) == set(EVENT_FIELDS)
    assert set(schemas["ErrorDetail"]["properties"]) == {"status", "code", "message", "parameter"}
    for path, methods in spec["paths"].items():
        answers = methods["get"]["responses"]
        assert "200" in answers and "401" in answers, path
        assert answers["401"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/ErrorBody"
        )
    docs = client.get("/docs")
    assert docs.headers["content-type"].startswith("text/html")
    for path in paths:
        assert path in docs.text
    assert "<script" not in docs.text


def test_hostile_text_in_the_store_comes_back_verbatim(client: TestClient) -> None:
    body = client.get("/api/events", params={"q": "__pwned = 1"}).json()
    assert [e["sentence"] for e in body["events"]] == [HOSTILE_SENTENCE]


# ------------------------------------------------------------------------------ larger pages


@pytest.fixture(scope="module")
def many_path(tmp_path_factory: pytest.TempPathFactory, session_options: Options) -> Path:
    """2,400 events over 30 days (many ties per sort value), 8 per article, via add_many."""
    from datetime import UTC, datetime, timedelta

    import eventwire
    from eventwire.model import Article, Event

    path = tmp_path_factory.mktemp("webmany") / "many.duckdb"
    items = []
    for a in range(300):
        text = " ".join(f"Clash {a}-{k} near town {k}." for k in range(8))
        events = []
        for k in range(8):
            sentence = f"Clash {a}-{k} near town {k}."
            start = text.index(sentence)
            ev = Event("ASSAULT" if k % 3 else "PROTEST", sentence, start, start + len(sentence))
            ev.event_date = date(2021, 1, 1) + timedelta(days=(a * 8 + k) % 30)
            ev.confidence = round(((a * 7 + k * 13) % 10) / 10, 1)
            ev.fatalities = None if k % 2 else (a + k) % 5
            ev.published = datetime(2021, 2, 1, tzinfo=UTC) + timedelta(hours=a % 48)
            ev.latitude, ev.longitude, ev.country = 35.0 + k / 10, 37.0 + a / 1000, "SYR"
            events.append(ev)
        items.append((Article(text, title=f"a{a}"), events))
    with eventwire.open(path, options=session_options) as store:
        store.add_many(items)
    return path


@pytest.mark.parametrize(
    "sort", ["-event_date", "event_date", "confidence", "-fatalities", "published"]
)
def test_pages_of_any_size_walk_the_store_in_sort_order(many_path: Path, sort: str) -> None:
    """Newest-first pages come in the snapshot's storage order, others from a sort of the keys:
    both must give every row once, in (key, event_id) order, whatever the page size."""
    name = sort.lstrip("-")
    with duckdb.connect(str(many_path), read_only=True) as con:
        keyed = con.execute(f"SELECT {SORTS[name][0]}, event_id FROM events").fetchall()
    expected = [i for _, i in sorted(keyed, reverse=sort.startswith("-"))]
    with TestClient(create_app(many_path), base_url="http://127.0.0.1") as c:

        def walk(limit: int) -> list[str]:
            ids: list[str] = []
            params: dict[str, Any] = {"sort": sort, "limit": limit, "fields": "event_id"}
            while True:
                page = c.get("/api/events", params=params).json()
                ids += [e["event_id"] for e in page["events"]]
                if not page["next_cursor"]:
                    return ids
                params["cursor"] = page["next_cursor"]

        big = walk(1500)
        small = walk(150)
    assert big == small == expected
    assert len(expected) == 2400


def test_default_page_json_is_the_rows_as_python_writes_them(many_path: Path) -> None:
    """The snapshot's precomputed JSON of each row equals the value-by-value rendering."""
    db = EventsDB(many_path)
    try:
        assert db.ready(60)
        for sort in ("-event_date", "confidence"):
            page = db.events(parse_filter(), sort=sort, limit=300)
            fast = db.events(parse_filter(), sort=sort, limit=300, encoded=True)
            assert fast.rows == [] and fast.encoded is not None
            assert [json.loads(row) for row in fast.encoded] == page.rows
            assert fast.next_cursor == page.next_cursor
    finally:
        db.close()


# ------------------------------------------------------------------------------ random input

PARAM_NAMES = sorted(
    {"type", "modality", "include_hypothetical", "actor", "country", "since", "until", "bbox",
     "near", "q", "sort", "limit", "cursor", "format", "fields"}
)  # fmt: skip


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(
        st.sampled_from(PARAM_NAMES),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60),
        max_size=4,
    )
)
def test_random_parameters_answer_200_or_422_never_500(
    client: TestClient, params: dict[str, str]
) -> None:
    for path in ("/api/events", "/api/stats"):
        allowed = PARAM_NAMES if path == "/api/events" else [
            p for p in PARAM_NAMES if p not in ("sort", "limit", "cursor", "format", "fields")
        ]
        response = client.get(path, params={k: v for k, v in params.items() if k in allowed})
        if response.status_code != 200:
            error = assert_error(response, 422)
            assert error["parameter"] in params


# ------------------------------------------------------------------------------ clusters


@pytest.fixture(scope="module")
def cluster_path(tmp_path_factory: pytest.TempPathFactory, session_options: Options) -> Path:
    """The fixture store plus a second outlet's report of the Barah shelling."""
    return build_cluster_store(tmp_path_factory.mktemp("webclusters") / "c.duckdb",
                               session_options)  # fmt: skip


@pytest.fixture(scope="module")
def cluster_client(cluster_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(cluster_path), base_url="http://127.0.0.1") as c:
        yield c


def test_clusters_are_the_stores_merged_events(
    cluster_client: TestClient, cluster_path: Path, session_options: Options
) -> None:
    import eventwire

    with eventwire.open(cluster_path, options=session_options) as store:
        merged = store.clusters(include_hypothetical=True)
    body = cluster_client.get("/api/clusters", params={"include_hypothetical": "true"}).json()
    assert body["count"] == len(body["clusters"]) == len(merged)
    got = {c["cluster_id"]: c for c in body["clusters"]}
    for m in merged:
        c = got[m.cluster_id]
        assert (c["report_count"], c["source"], c["event_id"], c["sentence"]) == (
            m.report_count, m.source, m.event_id, m.sentence
        )
        assert c["article_id"] is None and c["start"] is None
    assert list(body["clusters"][0]) == list(CLUSTER_KEYS)
    barah = [c for c in body["clusters"] if c["report_count"] == 2]
    assert len(barah) == 1 and barah[0]["sentence"] == SECOND_REPORT.sentence
    assert barah[0]["source"] == "news.example, other.example"
    # Reports stay reports: both are listed by /api/events.
    reports = cluster_client.get("/api/events", params={"q": "shelled Barah"}).json()
    assert reports["count"] == 2
    assert {e["event_id"] for e in reports["events"]} >= {barah[0]["event_id"]}


def test_clusters_filter_sort_page_and_fields(cluster_client: TestClient) -> None:
    default = cluster_client.get("/api/clusters").json()["clusters"]
    assert all(c["modality"] not in ("hypothetical", "negated") for c in default)
    assert len(default) == len(visible(all_specs()))  # one merged pair, one more report
    assault = cluster_client.get("/api/clusters", params={"type": "assault"}).json()
    assert {c["event_type"] for c in assault["clusters"]} == {"ASSAULT"}
    near = cluster_client.get("/api/clusters", params={"bbox": "36.52,35.67,36.54,35.69"}).json()
    assert [c["report_count"] for c in near["clusters"]] == [2]
    top = cluster_client.get("/api/clusters", params={"sort": "-report_count", "limit": 1}).json()
    assert top["clusters"][0]["report_count"] == 2 and top["next_cursor"]
    walked: list[str] = []
    params: dict[str, Any] = {"limit": 2, "sort": "-report_count"}
    while True:
        page = cluster_client.get("/api/clusters", params=params).json()
        walked += [c["cluster_id"] for c in page["clusters"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert sorted(walked) == sorted(c["cluster_id"] for c in default)
    assert len(set(walked)) == len(walked)
    fields = "cluster_id,sources,urls,event_ids"
    lists = cluster_client.get(
        "/api/clusters", params={"fields": fields, "bbox": "36.52,35.67,36.54,35.69"}
    ).json()["clusters"][0]
    assert list(lists) == ["cluster_id", "sources", "urls", "event_ids"]
    assert lists["sources"] == ["news.example", "other.example"] and len(lists["event_ids"]) == 2
    assert_error(cluster_client.get("/api/clusters", params={"fields": "text"}), 422, "fields")
    assert_error(cluster_client.get("/api/clusters", params={"sort": "-rank"}), 422, "sort")
    assert_error(cluster_client.get("/api/clusters", params={"limit": 0}), 422, "limit")
    assert_error(cluster_client.get("/api/clusters", params={"bbox": "1,2"}), 422, "bbox")
    assert_error(cluster_client.get("/api/clusters", params={"page": "2"}), 422, "page")
    other = cluster_client.get("/api/events", params={"limit": 1}).json()["next_cursor"]
    assert_error(
        cluster_client.get("/api/clusters", params={"limit": 1, "cursor": other + "x"}), 422,
        "cursor",
    )  # fmt: skip


def test_clusters_as_geojson_csv_and_counted_by_stats(cluster_client: TestClient) -> None:
    geo = cluster_client.get("/api/clusters", params={"format": "geojson"})
    assert geo.headers["content-type"].startswith("application/geo+json")
    features = geo.json()["features"]
    assert {f["id"] for f in features} == {f["properties"]["cluster_id"] for f in features}
    table = cluster_client.get("/api/clusters", params={"format": "csv"})
    rows = list(csv.reader(io.StringIO(table.text)))
    assert rows[0] == list(CLUSTER_KEYS) and len(rows) == len(features) + 1
    assert 'filename="clusters.csv"' in table.headers["content-disposition"]
    merged = cluster_client.get("/api/stats", params={"clusters": "true"}).json()
    reports = cluster_client.get("/api/stats").json()
    assert merged["total"] == len(features) == reports["total"] - 1
    assert dict(merged["by_type"])["ASSAULT"] == dict(reports["by_type"])["ASSAULT"] - 1


def test_cluster_page_json_is_the_rows_as_python_writes_them(cluster_path: Path) -> None:
    db = EventsDB(cluster_path)
    try:
        assert db.ready(60)
        f = parse_filter(include_hypothetical=True)
        for sort in ("-event_date", "-report_count"):
            page = db.clusters(f, sort=sort, limit=50)
            fast = db.clusters(f, sort=sort, limit=50, encoded=True)
            assert fast.encoded is not None
            assert [json.loads(row) for row in fast.encoded] == page.rows
    finally:
        db.close()


def test_stats_counted_in_python_equal_the_sql_counts(many_path: Path) -> None:
    """Small selections are counted in Python, large ones by DuckDB: the same answer."""
    from eventwire.web import queries

    db = EventsDB(many_path)
    try:
        for f in (parse_filter(), parse_filter(type="PROTEST"), parse_filter(since="2021-01-20")):
            small = db._compute_stats(f)
            limit, queries.COUNT_IN_PYTHON = queries.COUNT_IN_PYTHON, 0
            try:
                large = db._compute_stats(f)
            finally:
                queries.COUNT_IN_PYTHON = limit
            assert small == large and small["total"] > 0
    finally:
        db.close()


def test_a_plain_copy_answers_first_then_the_serving_copy(many_path: Path, tmp_path: Path) -> None:
    """take() copies the store's bytes; optimize() builds the sorted, indexed copy of the same
    content and removes the plain one; a second process finds the files by version."""
    from eventwire.web.snapshot import JSON_COLUMN, optimize, take

    plain = take(many_path, tmp_path)
    assert not plain.optimized and JSON_COLUMN not in plain.columns["events"]
    again = take(many_path, tmp_path)  # as another server process would
    assert again.version == plain.version and again.path == plain.path
    served = optimize(plain, tmp_path)
    assert served.optimized and served.version == plain.version
    assert JSON_COLUMN in served.columns["events"] and served.counts == plain.counts
    dates = [r[0] for r in served.conn.execute("SELECT event_date FROM events").fetchall()]
    assert dates == sorted(dates, reverse=True)
    assert sorted(p.name for p in tmp_path.glob("*.duckdb")) == [served.path.name]
    assert take(many_path, tmp_path).optimized
    for snap in (plain, again, served):
        snap.close()


def test_a_store_with_hostile_table_names_is_copied_and_served(
    store_path: Path, tmp_path: Path
) -> None:
    """Every table of the store is copied by name: names are quoted, never run as SQL."""
    path = tmp_path / "odd.duckdb"
    shutil.copyfile(store_path, path)
    name = 'notes"; DROP TABLE events; --'
    with duckdb.connect(str(path)) as con:
        con.execute(f'CREATE TABLE "{name.replace(chr(34), chr(34) * 2)}" (x INTEGER)')
        con.execute("INSERT INTO \"" + name.replace('"', '""') + "\" VALUES (1)")
    db = EventsDB(path)
    try:
        assert db.ready(60)
        assert db.health()["events"] == len(all_specs())
        assert len(db.events(parse_filter(include_hypothetical=True), limit=50).rows) == len(
            all_specs()
        )
    finally:
        db.close()
