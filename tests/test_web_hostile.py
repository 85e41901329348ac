"""Hostile articles from the real pipeline, served by a real ``eventwire serve`` process.

``tests/test_web_api.py`` and ``tests/test_web_browser.py`` cover a hand-made store; here the
hostile content comes in through ``ingest`` (HTML pages with scripts and ``javascript:``
links, records with a ``javascript:`` URL), and a writer meets the served store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import eventwire
from eventwire.config import Options

from .web_fixtures import Served, serve_process

pytest.importorskip("fastapi")

SENTENCE = "Rebels attacked an army post near Idlib on Monday, killing three soldiers."
PAGE = (
    "<html><head><title>Attack <script>window.__pwned=1</script></title>"
    "<script>window.__pwned=2</script></head><body><article>"
    f"<p>{SENTENCE} Residents fled north.</p>"
    "<p>Read more at <a href=\"javascript:alert('x')\">this link</a> or "
    '<img src=x onerror="window.__pwned=3"> the <b>report</b>.</p>'
    "<p>Officials said &lt;script&gt;alert(4)&lt;/script&gt; was written on a wall in Idlib.</p>"
    "</article></body></html>"
)
RECORD = {
    "url": "javascript:alert(document.cookie)",
    "title": '<img src=x onerror="alert(5)">',
    "source": "</script><script>alert(6)</script>",
    "text": "Turkish forces shelled the village of Ain Issa on Tuesday. "
    "<script>alert(7)</script> \"quoted\" 'single' & ampersand; \\ backslash.",
    "published": "2020-12-10",
}


@pytest.fixture(scope="module")
def hostile_store(
    session_options: Options, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """A store filled by the real pipeline from hostile inputs."""
    folder = tmp_path_factory.mktemp("hostile-web")
    (folder / "page.html").write_text(PAGE)
    (folder / "records.jsonl").write_text(json.dumps(RECORD) + "\n")
    db = folder / "store.duckdb"
    from dataclasses import replace

    with eventwire.open(db, options=replace(session_options, db=db)) as store:
        report = store.ingest([str(folder / "page.html"), str(folder / "records.jsonl")])
    assert (report.stored, report.rejected) == (2, 0), report.rejections
    yield db


@pytest.fixture(scope="module")
def served(hostile_store: Path) -> Iterator[Served]:
    with serve_process(hostile_store) as running:
        yield running


def test_hostile_articles_come_back_as_json_data_never_markup(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=10) as http:
        events = http.get("/api/events", params={"include_hypothetical": "true"}).json()["events"]
        assert events, "the hostile articles gave no events"
        seen_script = False
        for event in events:
            article = http.get(f"/api/articles/{event['article_id']}")
            assert article.status_code == 200
            assert article.headers["content-type"].startswith("application/json")
            assert article.headers.get("x-content-type-options") == "nosniff"
            body = article.json()
            text = body["text"]
            # The offsets the dashboard highlights index the text it shows.
            spans = [span for ev in body["events"] for span in ev["spans"]]
            assert any(span["role"] == "sentence" for span in spans)
            for span in spans:
                assert 0 <= span["start"] < span["end"] <= len(text), span
            seen_script |= any(f"<script>alert({n})</script>" in text for n in (4, 7))
            # The page's own scripts and handlers never became article text.
            assert "__pwned=1" not in text and "__pwned=2" not in text
            assert "onerror" not in text
        assert seen_script, "the literal script text should be kept, as text"
        urls = {e["url"] for e in events}
        assert "javascript:alert(document.cookie)" in urls  # stored verbatim, shown as text


def test_hostile_paths_and_ids_get_json_errors(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=10) as http:
        for path in (
            "/api/events/<script>alert(1)</script>",
            "/api/articles/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
            "/api/events/" + "x" * 5000,
            "/api/articles/..%2F..%2Fetc%2Fpasswd",
        ):
            response = http.get(path)
            assert response.status_code in (404, 422), (path, response.status_code)
            assert response.headers["content-type"].startswith("application/json"), path
            assert response.json()["error"]
            assert "<script>" not in response.headers.get("content-type", "")


def test_ingest_into_a_served_store_writes_and_the_server_then_serves_it(
    served: Served, hostile_store: Path, gazetteer_path: Path, tmp_path: Path
) -> None:
    """The server never holds the store: an ingest writes while it serves, and the next
    request sees the new article (no answer remembered from before is served)."""
    before = httpx.get(served.url + "/api/events", params={"q": "Friday"}, timeout=10).json()
    assert before["count"] == 0
    extra = tmp_path / "more.txt"
    extra.write_text(SENTENCE.replace("Monday", "Friday"))
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    done = subprocess.run(
        [sys.executable, "-m", "eventwire.cli", "--gazetteer", str(gazetteer_path), "ingest",
         str(extra), "--db", str(hostile_store)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "stored 1 articles" in done.stdout
    health = httpx.get(served.url + "/api/health", timeout=30).json()
    assert health["status"] == "ok" and health["articles"] == 3
    after = httpx.get(served.url + "/api/events", params={"q": "Friday"}, timeout=10)
    assert after.headers["x-eventwire-cache"] == "miss"
    assert after.json()["count"] >= 1
    assert all("Friday" in e["sentence"] for e in after.json()["events"])
