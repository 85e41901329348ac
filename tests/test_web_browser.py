"""The dashboard in real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Skipped only when /usr/bin/chromium is absent (install: apt-get install -y chromium) or the
``playwright`` package is missing; Playwright never downloads a browser here. Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)",
        allow_module_level=True,
    )
pytest.importorskip("playwright", reason="playwright is not installed (pip install playwright)")
pytest.importorskip("uvicorn", reason="web extra not installed: pip install 'eventwire[web]'")

from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright  # noqa: E402

import eventwire  # noqa: E402
from eventwire.config import Options  # noqa: E402
from eventwire.model import EVENT_KEYS, Article  # noqa: E402

from .web_fixtures import (  # noqa: E402
    ARTIFACTS,
    HOSTILE_SENTENCE,
    SECOND_REPORT,
    Served,
    all_specs,
    build_cluster_store,
    build_store,
    serve_process,
    visible,
)

LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
#: Syria's extent, with a margin for places on the border.
SYRIA = {"south": 32.2, "north": 37.5, "west": 35.5, "east": 42.5}
READY = "body[data-loading='0'][data-basemap='ready']"
TOKEN = "browser-test-token-0123456789"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield b
        b.close()


class Watched:
    """A page with its console errors, page errors and off-origin requests collected."""

    def __init__(self, page: Page, origin: str) -> None:
        self.page = page
        self.problems: list[str] = []
        self.remote: list[str] = []

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error":
                self.problems.append(msg.text)

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        page.on(
            "request",
            lambda req: None if req.url.startswith((origin, "data:", "blob:"))
            else self.remote.append(req.url),
        )  # fmt: skip


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Any]:
    contexts = []

    def opener(served: Served, suffix: str = "/", **kwargs: Any) -> Watched:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, **kwargs)
        contexts.append(context)
        page = context.new_page()
        watched = Watched(page, served.url)
        page.goto(served.url + suffix)
        page.wait_for_selector(READY, state="attached", timeout=20_000)
        return watched

    yield opener
    for context in contexts:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def table_types(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "#events-table tbody tr", "rows => rows.map(r => r.dataset.type)"
    )


def marker_positions(page: Page) -> list[dict[str, Any]]:
    # window.eventwire is the page's own read-only hook (no eval: the CSP forbids it).
    return page.evaluate("() => window.eventwire.markerPositions()")


def wait_reloaded(page: Page) -> None:
    page.wait_for_selector(READY, state="attached", timeout=20_000)


# ------------------------------------------------------------------------------ seed article


@pytest.fixture(scope="module")
def seed_store(
    tmp_path_factory: pytest.TempPathFactory, session_options: Options, seed_text: str
) -> Path:
    """The reference article through the real pipeline (eventwire.extract), stored for real."""
    path = tmp_path_factory.mktemp("browser-seed") / "seed.duckdb"
    events = eventwire.extract(seed_text, published="2020-12-10", options=session_options)
    article = Article(
        seed_text, title="Syria situation report", url="https://news.example/syria-sitrep",
        source="news.example", published=datetime(2020, 12, 10, tzinfo=UTC),
    )  # fmt: skip
    with eventwire.open(path, options=session_options) as store:
        store.add(article, events)
    return path


def test_seed_article_on_the_map_filter_and_event_panel(seed_store: Path, open_page: Any) -> None:
    with serve_process(seed_store) as served:
        api = httpx.get(f"{served.url}/api/events", params={"limit": 1000}).json()["events"]
        placed = [e for e in api if e["latitude"] is not None]
        assert placed, "the pipeline placed no event of the seed article on the map"
        watched = open_page(served)
        page = watched.page

        # Every event of the article is on the map, within Syria, and in the table.
        positions = marker_positions(page)
        assert {p["id"] for p in positions} == {e["event_id"] for e in placed}
        for p in positions:
            assert SYRIA["south"] <= p["lat"] <= SYRIA["north"], p
            assert SYRIA["west"] <= p["lon"] <= SYRIA["east"], p
        assert page.locator("#events-table tbody tr").count() == len(api)
        visible_marks = page.locator(".leaflet-marker-icon, path.ev-marker")
        assert visible_marks.count() >= 1 and visible_marks.first.is_visible()
        screenshot(page, "dashboard-seed.png")

        # A type filter changes the markers and the table.
        counts: dict[str, int] = {}
        for e in api:
            counts[e["event_type"]] = counts.get(e["event_type"], 0) + 1
        partial = [t for t, n in counts.items() if n < len(api)]
        chosen = partial[0] if partial else next(
            t for t in ("AID", "SANCTION", "CONCEDE") if t not in counts
        )  # fmt: skip
        page.select_option("#f-type", chosen)
        page.wait_for_function(
            "n => document.querySelectorAll('#events-table tbody tr').length === n",
            arg=counts.get(chosen, 0),
        )
        wait_reloaded(page)
        assert set(table_types(page)) <= {chosen}
        filtered = {p["id"] for p in marker_positions(page)}
        assert filtered == {e["event_id"] for e in placed if e["event_type"] == chosen}
        assert filtered != {p["id"] for p in positions}

        # Back to all; clicking an event shows its sentence with the trigger highlighted.
        page.select_option("#f-type", "")
        page.wait_for_function(
            "n => document.querySelectorAll('#events-table tbody tr').length === n",
            arg=len(api),
        )
        with_trigger = [e for e in api if e["event_id"]]
        target = with_trigger[0]
        page.click(f"#events-table tbody tr[data-event-id='{target['event_id']}']")
        page.wait_for_selector("#sentence")
        detail = httpx.get(f"{served.url}/api/events/{target['event_id']}").json()
        assert page.inner_text("#sentence").strip() == detail["sentence"].strip()
        if detail["trigger_start"] is not None:
            trigger = page.inner_text("#sentence mark.hl-trigger")
            start = detail["trigger_start"] - detail["start"]
            assert trigger == detail["sentence"][start : start + len(trigger)]
        assert page.locator("#sentence mark").count() >= 1
        screenshot(page, "dashboard-seed-event.png")
        assert watched.problems == []
        assert watched.remote == []


# ------------------------------------------------------------------------------ fixture store


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory, session_options: Options) -> Path:
    return build_store(tmp_path_factory.mktemp("browser-fixture") / "events.duckdb",
                       session_options)  # fmt: skip


@pytest.fixture(scope="module")
def fixture_server(fixture_store: Path) -> Iterator[Served]:
    with serve_process(fixture_store) as served:
        yield served


def test_hostile_article_is_shown_as_inert_text(fixture_server: Served, open_page: Any) -> None:
    watched = open_page(fixture_server)
    page = watched.page
    row = page.locator("#events-table tbody tr", has_text="__pwned = 1")
    assert row.count() == 1
    assert "<b>bold</b>" in page.inner_text("#events-table")  # markup shown, not applied
    assert page.locator("#events-table b").count() == 0
    row.click()
    page.wait_for_selector("#sentence")
    assert page.inner_text("#sentence") == HOSTILE_SENTENCE
    page.click("button.show-article")
    page.wait_for_selector("#article .article-text")
    text = page.inner_text("#article .article-text")
    assert "<script>window.__pwned = 1</script>" in text
    assert 'onerror="window.__pwned=3"' in text
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("#panel script, #panel img, #panel a[href^='javascript']").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    # The article's javascript: URL is shown as text, never as a link.
    assert page.locator("#panel .article-link").count() == 0
    assert "javascript:window.__pwned=4" in page.inner_text("#panel .article-url")
    screenshot(page, "dashboard-hostile.png")
    assert watched.problems == [] and watched.remote == []
    # Defence in depth: even markup that did reach the page could not run inline script.
    with pytest.raises(Exception, match="(?i)content security policy|csp|refused"):
        page.add_script_tag(content="window.__pwned = 5")
    assert page.evaluate("() => window.__pwned") is None


def test_filters_table_markers_and_export(fixture_server: Served, open_page: Any) -> None:
    watched = open_page(fixture_server)
    page = watched.page
    shown = visible(all_specs())
    assert page.locator("#events-table tbody tr").count() == len(shown)
    assert len(marker_positions(page)) == sum(1 for s in shown if s.place)
    assert page.get_attribute("body", "data-markers") == str(sum(1 for s in shown if s.place))

    page.select_option("#f-modality", "*")
    page.wait_for_function(
        "n => document.querySelectorAll('#events-table tbody tr').length === n",
        arg=len(all_specs()),
    )
    page.select_option("#f-modality", "")
    page.fill("#f-country", "LBN")
    page.click("#apply")
    page.wait_for_function(
        "() => document.querySelectorAll('#events-table tbody tr').length === 1"
    )
    wait_reloaded(page)
    assert "Thousands protested in Beirut." in page.inner_text("#events-table tbody")

    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0] == list(EVENT_KEYS)
    assert len(rows) == 2 and "Thousands protested in Beirut." in rows[1]

    page.click("#reset-filters")
    page.wait_for_function(
        "n => document.querySelectorAll('#events-table tbody tr').length === n", arg=len(shown)
    )
    with page.expect_download() as download_info:
        page.click("#export-geojson")
    import json

    collection = json.loads(Path(download_info.value.path()).read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == len(shown)
    assert watched.problems == [] and watched.remote == []


def test_brushing_the_timeline_filters_the_map(fixture_server: Served, open_page: Any) -> None:
    watched = open_page(fixture_server)
    page = watched.page
    shown = visible(all_specs())
    before = page.locator("#events-table tbody tr").count()
    assert before == len(shown)
    box = page.locator("#timeline").bounding_box()
    assert box is not None
    # Drag over the right-most tenth: the last days of the fixture (2020-12-09 to -10).
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.93, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.999, y, steps=5)
    page.mouse.up()
    page.wait_for_function(
        "n => document.querySelectorAll('#events-table tbody tr').length < n", arg=before
    )
    wait_reloaded(page)
    dates = page.eval_on_selector_all(
        "#events-table tbody tr td:first-child", "cells => cells.map(c => c.textContent)"
    )
    assert dates and all(d >= "2020-12-09" for d in dates)
    expected = {s.sentence for s in shown if s.day and s.day >= min(dates)}
    assert len(dates) == len(expected)
    assert "from" in page.inner_text("#status")
    assert page.locator("#brush").get_attribute("width") not in (None, "0")
    page.click("#clear-brush")
    page.wait_for_function(
        "n => document.querySelectorAll('#events-table tbody tr').length === n", arg=before
    )
    screenshot(page, "dashboard-timeline.png")
    assert watched.problems == [] and watched.remote == []


def test_in_map_view_follows_the_map(fixture_server: Served, open_page: Any) -> None:
    watched = open_page(fixture_server)
    page = watched.page
    shown = visible(all_specs())
    page.check("#f-inview")
    page.evaluate("() => window.eventwire.setView(33.89, 35.50, 11)")  # Beirut
    beirut = [s for s in shown if s.place and s.place[0] == "Beirut"]
    page.wait_for_function(
        "n => document.querySelectorAll('#events-table tbody tr').length === n", arg=len(beirut)
    )
    wait_reloaded(page)
    assert {p["lat"] for p in marker_positions(page)} == {33.89}
    page.evaluate("() => window.eventwire.setView(35.65, 36.54, 10)")  # Barah and Kafr Uwayd
    idlib = [s for s in shown if s.place and s.place[0] in ("Barah", "Kafr Uwayd")]
    page.wait_for_function(
        "n => document.querySelectorAll('#events-table tbody tr').length === n", arg=len(idlib)
    )
    page.uncheck("#f-inview")
    page.wait_for_function(
        "n => document.querySelectorAll('#events-table tbody tr').length === n", arg=len(shown)
    )
    assert watched.problems == [] and watched.remote == []


def test_an_empty_store_shows_an_empty_page_without_errors(
    tmp_path: Path, session_options: Options, open_page: Any
) -> None:
    path = tmp_path / "empty.duckdb"
    with eventwire.open(path, options=session_options):
        pass
    with serve_process(path) as served:
        watched = open_page(served)
        page = watched.page
        assert page.inner_text("#status") == "0 events"
        assert page.locator("#events-table tbody tr").count() == 0
        assert marker_positions(page) == []
        box = page.locator("#timeline").bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(200)
        assert watched.problems == [] and watched.remote == []


def test_token_in_the_fragment_unlocks_the_api(fixture_store: Path, open_page: Any) -> None:
    with serve_process(fixture_store, "--token", TOKEN) as served:
        watched = open_page(served, f"/#token={TOKEN}")
        page = watched.page
        assert page.locator("#events-table tbody tr").count() == len(visible(all_specs()))
        assert "token" not in page.url  # the fragment is cleared from the address bar
        locked = open_page(served)
        assert locked.page.locator("#events-table tbody tr").count() == 0
        assert "token" in locked.page.inner_text("#status").lower()


# ------------------------------------------------------------------------------ merged events


@pytest.fixture(scope="module")
def cluster_store(tmp_path_factory: pytest.TempPathFactory, session_options: Options) -> Path:
    """The fixture store plus a second outlet's report of the Barah shelling."""
    return build_cluster_store(tmp_path_factory.mktemp("browser-clusters") / "c.duckdb",
                               session_options)  # fmt: skip


def test_merged_events_view_counts_each_event_once(cluster_store: Path, open_page: Any) -> None:
    """'Show: merged events' draws one marker and one row per real event, says how many
    reports each has (table, marker tooltip, panel), and opens each report from the panel."""
    with serve_process(cluster_store) as served:
        merged = httpx.get(f"{served.url}/api/clusters", params={"limit": 1000}).json()
        assert [c["report_count"] for c in merged["clusters"]].count(2) == 1
        watched = open_page(served)
        page = watched.page
        reports = len(visible(all_specs())) + 1
        assert page.locator("#events-table tbody tr").count() == reports
        assert page.locator("#events-table tbody tr[data-report-count='2']").count() == 2

        page.select_option("#f-view", "clusters")
        page.wait_for_function(
            "n => document.body.dataset.view === 'clusters' && "
            "document.querySelectorAll('#events-table tbody tr').length === n",
            arg=merged["count"],
        )
        wait_reloaded(page)
        assert merged["count"] == reports - 1
        assert "merged events" in page.inner_text("#status")
        positions = marker_positions(page)
        placed = {c["cluster_id"] for c in merged["clusters"] if c["latitude"] is not None}
        assert {p["id"] for p in positions} == placed
        twice = [p for p in positions if p["reports"] == 2]
        assert len(twice) == 1 and "2 reports" in twice[0]["label"]

        # The marker's tooltip says it on the map itself (zoomed in: no marker grouping).
        page.evaluate(f"() => window.eventwire.setView({twice[0]['lat']}, {twice[0]['lon']}, 12)")
        page.hover("path.ev-marker[stroke-width='2']", force=True)
        page.wait_for_selector(".leaflet-tooltip")
        assert "2 reports" in page.inner_text(".leaflet-tooltip")

        page.click("#events-table tbody tr[data-report-count='2']")
        page.wait_for_selector("#cluster")
        assert page.inner_text("#sentence") == SECOND_REPORT.sentence
        panel = page.inner_text("#cluster")
        assert "news.example, other.example" in panel and "Reports" in panel
        assert page.locator("#reports button.show-report").count() == 2
        screenshot(page, "dashboard-merged.png")
        page.click("#reports li:nth-child(2) button")
        page.wait_for_selector("#sentence mark.hl-trigger")
        assert page.inner_text("#sentence") == SECOND_REPORT.sentence
        assert "reported in 2 articles" in page.inner_text("#panel")

        # The timeline counts merged events too; back to reports, every report is listed.
        stats = httpx.get(f"{served.url}/api/stats", params={"clusters": "true"}).json()
        assert stats["total"] == merged["count"]
        page.select_option("#f-view", "reports")
        page.wait_for_function(
            "n => document.body.dataset.view === 'reports' && "
            "document.querySelectorAll('#events-table tbody tr').length === n",
            arg=reports,
        )
        assert watched.problems == [] and watched.remote == []
