"""iter_articles over real files in tmp_path and a real local HTTP server."""

from __future__ import annotations

import codecs
import gzip
import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from eventwire.config import Options
from eventwire.errors import InputError
from eventwire.fetch import Fetcher
from eventwire.model import Article, Rejection
from eventwire.sources import (
    FULL_CONTENT_CHARS,
    dateline_date,
    iter_articles,
    parse_date,
    record_to_article,
)

from .http_server import LocalServer, Response

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
PAGE = (FIXTURES / "article.html").read_bytes()
TEXT = (
    "Protesters gathered outside the provincial council on Monday to demand the release of "
    "detained students.\n\nPolice dispersed the crowd with tear gas in the afternoon."
)
ATOM_FULL = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Wire</title><id>urn:w</id>
<updated>2021-03-01T00:00:00Z</updated>
<entry><title>Long one</title><id>urn:w:1</id><link href="https://wire.example/1"/>
<updated>2021-03-01T12:00:00+01:00</updated>
<content type="html">&lt;p&gt;{"Talks resumed in the capital on Sunday. " * 12}&lt;/p&gt;</content>
</entry></feed>""".encode()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def fast(options: Options) -> Options:
    return replace(
        options, fetch_timeout=0.5, fetch_max_bytes=200_000, fetch_max_redirects=3,
        user_agent="eventwire-test/2.0",
    )  # fmt: skip


def write(path: Path, data: bytes | str, *, gz: bool = False) -> Path:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if gz:
        path = path.with_name(path.name + ".gz")
        raw = gzip.compress(raw)
    path.write_bytes(raw)
    return path


def read(inputs: list[str | Path], options: Options, **kwargs: object) -> list[Article | Rejection]:
    return list(iter_articles([str(i) for i in inputs], options=options, **kwargs))  # type: ignore[arg-type]


def only_rejection(results: list[Article | Rejection]) -> Rejection:
    assert len(results) == 1, results
    assert isinstance(results[0], Rejection), results
    return results[0]


def articles(results: list[Article | Rejection]) -> list[Article]:
    return [r for r in results if isinstance(r, Article)]


# -- every file type, plain and gzip-compressed ------------------------------------------

RECORD = {"url": "https://x.example/a", "title": "T", "text": TEXT, "published": "2021-03-01"}
CASES = {
    "html": (PAGE, ["Heavy rain on Wednesday"]),
    "htm": (PAGE, ["Heavy rain on Wednesday"]),
    "txt": (TEXT.encode(), ["Protesters gathered"]),
    "json": (json.dumps(RECORD).encode(), ["Protesters gathered"]),
    "jsonl": (
        (json.dumps(RECORD) + "\n" + json.dumps({**RECORD, "text": "Second record."})).encode(),
        ["Protesters gathered", "Second record."],
    ),
    "xml": ((FIXTURES / "feed-full.rss").read_bytes(), ["The morning ferry", "fish market"]),
    "rss": ((FIXTURES / "feed-full.rss").read_bytes(), ["The morning ferry", "fish market"]),
    "atom": (ATOM_FULL, ["Talks resumed in the capital"]),
}


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("ext", sorted(CASES))
def test_every_file_type_reads(tmp_path: Path, options: Options, ext: str, gz: bool) -> None:
    data, snippets = CASES[ext]
    path = write(tmp_path / f"input.{ext}", data, gz=gz)
    results = read([path], options)
    found = articles(results)
    assert len(found) == len(results) == len(snippets)
    for article, snippet in zip(found, snippets, strict=True):
        assert snippet in article.text
        assert article.locator is not None and article.locator.startswith(str(path))


def test_text_file_keeps_paragraphs_and_has_path_locator(tmp_path: Path, options: Options) -> None:
    path = write(tmp_path / "a.txt", TEXT.replace("\n", "\r\n"))
    (article,) = read([path], options)
    assert isinstance(article, Article)
    assert article.text == TEXT
    assert article.locator == str(path)
    assert article.published is None


def test_feed_entries_carry_feed_fields(tmp_path: Path, options: Options) -> None:
    path = tmp_path / "harbour.rss"
    path.write_bytes((FIXTURES / "feed-full.rss").read_bytes())
    first, second = read([path], options)
    assert isinstance(first, Article) and isinstance(second, Article)
    assert first.title == "Ferry service suspended after engine fault"
    assert first.url == "https://harbour-gazette.example/news/ferry-suspended"
    assert first.source == "Harbour Gazette"
    assert first.published == datetime(2021, 3, 9, 7, 30, tzinfo=UTC)
    assert first.locator == f"{path}#1" and second.locator == f"{path}#2"
    assert len(first.text) >= FULL_CONTENT_CHARS
    assert "\n\n" in first.text  # the entry's <p> paragraphs survive
    assert "<p>" not in first.text


def test_json_list_records_and_locators(tmp_path: Path, options: Options) -> None:
    records = [
        {"text": "First.", "title": "One", "source": "Wire", "published": "2021-03-01T10:00:00Z"},
        {"html": PAGE.decode(), "url": "https://valley.example/f"},
        {"title": "No body"},
        "not an object",
        {"text": 42},
        {"text": "Dated badly.", "published": "sometime soon"},
    ]
    path = write(tmp_path / "batch.json", json.dumps(records))
    results = read([path], options)
    assert [r.locator for r in results] == [f"{path}#{i}" for i in range(1, 7)]
    one, two, none, scalar, number, baddate = results
    assert isinstance(one, Article) and one.source == "Wire" and one.title == "One"
    assert one.published == datetime(2021, 3, 1, 10, tzinfo=UTC)
    assert isinstance(two, Article) and two.title is not None and "Flooding" in two.title
    assert two.published == datetime(2021, 3, 4, 9, 15, tzinfo=UTC)  # the page's own date
    assert isinstance(none, Rejection) and "'text'" in none.reason and "'html'" in none.reason
    assert isinstance(scalar, Rejection) and "must be a JSON object" in scalar.reason
    assert isinstance(number, Rejection) and "'text' must be a string, not int" in number.reason
    assert isinstance(baddate, Rejection) and "sometime soon" in baddate.reason
    assert all(r.stage == "read" for r in results if isinstance(r, Rejection))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"{not json", "invalid JSON"),
        (b"42", "not a int"),
        (b"   \n  ", "invalid JSON"),
    ],
)
def test_bad_json_file_is_one_rejection(
    tmp_path: Path, options: Options, data: bytes, expected: str
) -> None:
    rejection = only_rejection(read([write(tmp_path / "x.json", data)], options))
    assert expected in rejection.reason


# -- JSONL streaming ---------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
def test_jsonl_bad_lines_do_not_stop_the_batch(tmp_path: Path, options: Options, gz: bool) -> None:
    lines = [
        json.dumps({"text": "Line one.", "published": "Thu, 10 Dec 2020 08:00:00 +0100"}),
        "{broken",
        "",
        json.dumps({"title": "no text"}),
        "[1, 2]",
        json.dumps({"text": "Line six.", "source": "Agency"}),
    ]
    path = write(tmp_path / "wire.jsonl", "\n".join(lines) + "\n", gz=gz)
    results = read([path], options)
    assert [r.locator for r in results] == [f"{path}:{n}" for n in (1, 2, 4, 5, 6)]
    assert [type(r).__name__ for r in results] == [
        "Article", "Rejection", "Rejection", "Rejection", "Article",
    ]  # fmt: skip
    first, broken, notext, _, last = results
    assert isinstance(first, Article) and first.text == "Line one."
    assert first.published == datetime(2020, 12, 10, 7, tzinfo=UTC)
    assert isinstance(broken, Rejection) and "invalid JSON" in broken.reason
    assert isinstance(notext, Rejection) and "no 'text' field" in notext.reason
    assert isinstance(last, Article) and last.source == "Agency"


def test_jsonl_streams_lazily(tmp_path: Path, options: Options) -> None:
    path = tmp_path / "big.jsonl.gz"
    line = json.dumps({"text": "Clashes were reported near the border crossing."}) + "\n"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for _ in range(100_000):
            fh.write(line)
        fh.write("{broken at the very end\n")
    started = time.monotonic()
    head = list(itertools.islice(iter_articles([str(path)], options=options), 3))
    assert time.monotonic() - started < 1.0  # far less than reading 100,000 records
    assert [a.locator for a in head] == [f"{path}:1", f"{path}:2", f"{path}:3"]
    assert all(isinstance(a, Article) for a in head)


def test_truncated_gzip_jsonl_keeps_the_lines_before(tmp_path: Path, options: Options) -> None:
    lines = "".join(json.dumps({"text": f"Report number {i} " * 5}) + "\n" for i in range(2000))
    whole = gzip.compress(lines.encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    results = read([path], options)
    assert len(articles(results)) > 10
    last = results[-1]
    assert isinstance(last, Rejection) and last.locator == str(path)
    assert "truncated" in last.reason and "lines before it were read" in last.reason
    assert all(isinstance(r, Article) for r in results[:-1])


def test_jsonl_utf16_and_bom_and_cp1252_lines(tmp_path: Path, options: Options) -> None:
    record = json.dumps({"text": "Café “talks” in Bogotá."}, ensure_ascii=False)
    utf16 = write(tmp_path / "u16.jsonl", codecs.BOM_UTF16_LE + record.encode("utf-16-le"))
    bom = write(tmp_path / "bom.jsonl", codecs.BOM_UTF8 + record.encode())
    legacy = write(tmp_path / "legacy.jsonl", record.encode("cp1252"))
    results = read([utf16, bom, legacy], options)
    assert [a.text for a in articles(results)] == ["Café “talks” in Bogotá."] * 3


def test_jsonl_with_only_blank_lines_is_rejected(tmp_path: Path, options: Options) -> None:
    rejection = only_rejection(read([write(tmp_path / "blank.jsonl", "\n\n  \n")], options))
    assert "no records" in rejection.reason


# -- bad files ------------------------------------------------------------------------------

WESTERN = "The minister’s “final offer” was rejected — talks in Zürich collapsed, costing €5m."


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (WESTERN.encode("utf-8"), WESTERN),
        (codecs.BOM_UTF8 + WESTERN.encode("utf-8"), WESTERN),
        (WESTERN.encode("cp1252"), WESTERN),
        ("Größere Proteste in Köln, sagte die Polizei.".encode("latin-1"),
         "Größere Proteste in Köln, sagte die Polizei."),
        (codecs.BOM_UTF16_LE + WESTERN.encode("utf-16-le"), WESTERN),
        (codecs.BOM_UTF16_BE + WESTERN.encode("utf-16-be"), WESTERN),
        (WESTERN.encode("utf-16-le"), WESTERN),
        (WESTERN.encode("utf-16-be"), WESTERN),
    ],
    ids=["utf8", "utf8-bom", "cp1252", "latin1", "utf16le-bom", "utf16be-bom", "utf16le",
         "utf16be"],
)  # fmt: skip
def test_text_files_in_any_encoding(
    tmp_path: Path, options: Options, data: bytes, expected: str
) -> None:
    (article,) = read([write(tmp_path / "t.txt", data)], options)
    assert isinstance(article, Article)
    assert article.text == expected


def test_latin1_html_page_with_meta_charset(tmp_path: Path, options: Options) -> None:
    body = "<p>" + "Die Demonstranten zogen durch Köln und forderten Gespräche. " * 6 + "</p>"
    page = f'<html><head><meta charset="ISO-8859-1"></head><body><article>{body}</article>'
    (article,) = read([write(tmp_path / "p.html", page.encode("latin-1"))], options)
    assert isinstance(article, Article) and "durch Köln" in article.text


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("empty.txt", b"", "empty file (0 bytes)"),
        ("empty.json", b"", "empty file (0 bytes)"),
        ("empty.jsonl", b"", "empty file (0 bytes)"),
        ("empty.html", b"", "empty file (0 bytes)"),
        ("blank.txt", b"  \n\t\r\n  ", "no article text"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "binary file"),
        ("archive.html", b"PK\x03\x04" + bytes(100), "binary file"),
        ("data.jsonl", bytes(range(256)) * 8, "binary file"),
        ("scripts.html", (FIXTURES / "scripts-only.html").read_bytes(), "no article text found"),
        ("bad.rss", (FIXTURES / "malformed.rss").read_bytes(), "malformed feed"),
        ("page.xml", b"<catalog><book id='1'>Title</book></catalog>", "not an RSS or Atom feed"),
        ("notes.pdf", b"%PDF-1.4", "unsupported file type .pdf"),
        ("README", b"hello", "unsupported file type (none)"),
    ],
)
def test_bad_files_are_rejections(
    tmp_path: Path, options: Options, name: str, data: bytes, expected: str
) -> None:
    path = write(tmp_path / name, data)
    rejection = only_rejection(read([path], options))
    assert rejection.locator == str(path)
    assert rejection.stage == "read"
    assert expected in rejection.reason


@pytest.mark.parametrize("name", ["t.txt.gz", "p.html.gz", "r.json.gz", "f.rss.gz", "w.jsonl.gz"])
def test_truncated_or_corrupt_gzip_is_a_rejection(
    tmp_path: Path, options: Options, name: str
) -> None:
    whole = gzip.compress(TEXT.encode() * 50)
    (tmp_path / name).write_bytes(whole[: len(whole) // 3])
    (tmp_path / ("bad-" + name)).write_bytes(b"\x1f\x8b\x08\x00garbage-not-deflate")
    for file in (tmp_path / name, tmp_path / ("bad-" + name)):
        rejection = only_rejection(read([file], options))
        assert "gzip" in rejection.reason, rejection.reason


def test_nonexistent_path(tmp_path: Path, options: Options) -> None:
    missing = tmp_path / "nope" / "article.txt"
    rejection = only_rejection(read([missing], options))
    assert rejection == Rejection(
        str(missing), "read", "no such file or directory; give an existing path or an http(s) URL"
    )


# -- folders --------------------------------------------------------------------------------


def test_folder_is_read_recursively_in_sorted_order(tmp_path: Path, options: Options) -> None:
    root = tmp_path / "corpus"
    (root / "b" / "deeper").mkdir(parents=True)
    (root / ".hidden").mkdir()
    write(root / "c.txt", "Third file.")
    write(root / "a.txt", "First file.")
    write(root / "b" / "deeper" / "z.txt", "Inside deeper.", gz=True)
    write(root / "b" / "m.json", json.dumps({"text": "Record in b."}))
    write(root / ".secret.txt", "Hidden file.")
    write(root / ".hidden" / "x.txt", "In hidden folder.")
    write(root / "photo.png", b"\x89PNG\r\n\x1a\n")
    write(root / "notes.md", "# skipped")
    results = read([root], options)
    assert [r.text for r in articles(results)] == [
        "First file.", "Inside deeper.", "Record in b.", "Third file.",
    ]  # fmt: skip
    assert len(results) == 4  # unknown extensions and hidden files are skipped silently


def test_inputs_keep_their_order_and_are_lazy(tmp_path: Path, options: Options) -> None:
    one = write(tmp_path / "1.txt", "One.")
    two = write(tmp_path / "2.txt", "Two.")
    gen = iter_articles([str(two), str(tmp_path / "missing.txt"), str(one)], options=options)
    two.unlink()  # nothing has been read yet: the generator has not started
    results = list(gen)
    assert [type(r).__name__ for r in results] == ["Rejection", "Rejection", "Article"]
    assert results[2].locator == str(one)


# -- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-12-10", datetime(2020, 12, 10, tzinfo=UTC)),
        ("2020-12-10T08:30:00Z", datetime(2020, 12, 10, 8, 30, tzinfo=UTC)),
        ("2020-12-10T08:30:00+02:00", datetime(2020, 12, 10, 6, 30, tzinfo=UTC)),
        ("Thu, 10 Dec 2020 08:00:00 +0100", datetime(2020, 12, 10, 7, tzinfo=UTC)),
        ("Thu, 10 Dec 2020 08:00:00 GMT", datetime(2020, 12, 10, 8, tzinfo=UTC)),
        ("10 December 2020", datetime(2020, 12, 10, tzinfo=UTC)),
        ("December 10, 2020 8:15 PM", datetime(2020, 12, 10, 20, 15, tzinfo=UTC)),
        ("2020/12/10 08:00", datetime(2020, 12, 10, 8, tzinfo=UTC)),
        (1607587200, datetime(2020, 12, 10, 8, tzinfo=UTC)),
        (date(2020, 12, 10), datetime(2020, 12, 10, tzinfo=UTC)),
        (datetime(2020, 12, 10, 8), datetime(2020, 12, 10, 8, tzinfo=UTC)),
    ],
)
def test_parse_date_forms(value: object, expected: datetime) -> None:
    result = parse_date(value, "rec")
    assert result == expected
    assert result is not None and result.tzinfo is not None


def test_parse_date_keeps_the_offset() -> None:
    result = parse_date("2020-12-10T08:30:00+02:00", "rec")
    assert result is not None and result.utcoffset() == timedelta(hours=2)
    assert result.tzinfo == timezone(timedelta(hours=2))


@pytest.mark.parametrize("value", [None, "", "   "])
def test_parse_date_empty_is_none(value: object) -> None:
    assert parse_date(value, "rec") is None


@pytest.mark.parametrize("value", ["yesterday", "next week", "December 10", "2020-13-45", [1]])
def test_parse_date_rejects_what_it_cannot_place(value: object) -> None:
    with pytest.raises(InputError) as info:
        parse_date(value, "wire.jsonl:3")
    assert info.value.source == "wire.jsonl:3"


def test_record_to_article_prefers_text_over_html() -> None:
    article = record_to_article({"text": "Plain.", "html": "<p>Markup.</p>"}, "r")
    assert article.text == "Plain."


# -- URLs, URL lists and feeds over HTTP -------------------------------------------------


def test_url_page_is_fetched_with_the_user_agent(server: LocalServer, fast: Options) -> None:
    server.route("/news/flood", Response(body=PAGE))
    url = server.url("/news/flood")
    (article,) = read([url], fast)
    assert isinstance(article, Article)
    assert article.url == url and article.locator == url
    assert "Heavy rain on Wednesday" in article.text
    assert server.requests_to("/news/flood")[0].headers["User-Agent"] == "eventwire-test/2.0"


def test_url_after_redirect_records_the_final_url(server: LocalServer, fast: Options) -> None:
    server.route("/final", Response(body=PAGE))
    server.redirect("/short", "/final")
    (article,) = read([server.url("/short")], fast)
    assert isinstance(article, Article)
    assert article.url == server.url("/final") and article.locator == server.url("/short")


def test_plain_text_url(server: LocalServer, fast: Options) -> None:
    server.route("/t", Response(body=TEXT.encode("cp1252"), content_type="text/plain"))
    (article,) = read([server.url("/t")], fast)
    assert isinstance(article, Article) and article.text == TEXT


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        (Response(body=b"gone", status=404), "HTTP 404"),
        (Response(body=b"boom", status=500), "HTTP 500"),
        (Response(body=PAGE, delay=3.0), "timed out"),
        (Response.huge(5_000_000, content_length=True), "too large"),
        (Response.huge(5_000_000, content_length=False), "too large"),
    ],
    ids=["404", "500", "timeout", "cap-declared", "cap-streamed"],
)
def test_url_failures_are_fetch_rejections(
    server: LocalServer, fast: Options, route: Response, expected: str
) -> None:
    server.route("/x", route)
    url = server.url("/x")
    rejection = only_rejection(read([url], fast))
    assert rejection.stage == "fetch"
    assert rejection.locator == rejection.url == url
    assert expected in rejection.reason


def test_url_redirect_loop_is_a_fetch_rejection(server: LocalServer, fast: Options) -> None:
    server.redirect("/a", "/b")
    server.redirect("/b", "/a")
    rejection = only_rejection(read([server.url("/a")], fast))
    assert rejection.stage == "fetch" and "redirect" in rejection.reason


def test_url_with_unsupported_content(server: LocalServer, fast: Options) -> None:
    server.route("/img", Response(body=b"\x89PNG\r\n\x1a\n", content_type="image/png"))
    server.route("/js", Response(body=(FIXTURES / "scripts-only.html").read_bytes()))
    img, js = read([server.url("/img"), server.url("/js")], fast)
    assert isinstance(img, Rejection) and "unsupported content type 'image/png'" in img.reason
    assert isinstance(js, Rejection) and js.stage == "read"
    assert "no article text found" in js.reason


def test_unsupported_scheme_input(fast: Options) -> None:
    rejection = only_rejection(read(["ftp://example.org/a.txt"], fast))
    assert rejection.stage == "fetch" and "only http and https" in rejection.reason


def test_feed_url_with_full_content_needs_no_more_fetches(
    server: LocalServer, fast: Options
) -> None:
    server.route(
        "/feed", Response(body=(FIXTURES / "feed-full.rss").read_bytes(), content_type="text/xml")
    )
    results = read([server.url("/feed")], fast)
    assert [r.locator for r in results] == [server.url("/feed#1"), server.url("/feed#2")]
    assert all(isinstance(r, Article) for r in results)
    assert len(server.requests) == 1


def test_feed_with_link_only_entries_fetches_each_page(
    server: LocalServer, fast: Options, tmp_path: Path
) -> None:
    atom = (FIXTURES / "feed-links.atom").read_text().replace("__BASE__", server.base_url)
    server.route("/news/flooding", Response(body=PAGE))
    server.route("/news/bridge", Response(body=b"missing", status=404))
    feed_file = write(tmp_path / "valley.atom", atom)
    server.route("/feed", Response(body=atom.encode(), content_type="application/atom+xml"))
    for source, locator in ((str(feed_file), str(feed_file)), (server.url("/feed"), None)):
        flood, bridge = read([source], fast)
        where = locator or server.url("/feed")
        assert isinstance(flood, Article)
        assert flood.locator == f"{where}#1"
        assert flood.url == server.url("/news/flooding")
        assert flood.title == "Flooding cuts road to river town"
        assert flood.source == "Valley Courier"
        assert flood.published == datetime(2021, 3, 4, 9, 15, tzinfo=UTC)
        assert "Residents of the low-lying streets" in flood.text
        assert isinstance(bridge, Rejection)
        assert bridge.stage == "fetch" and "HTTP 404" in bridge.reason
        assert bridge.locator == f"{where}#2" and bridge.url == server.url("/news/bridge")
    assert len(server.requests_to("/news/flooding")) == 2
    ua = {r.headers["User-Agent"] for r in server.requests}
    assert ua == {"eventwire-test/2.0"}


def test_short_entry_without_link_is_rejected(tmp_path: Path, options: Options) -> None:
    rss = (
        "<rss version='2.0'><channel><title>T</title><item><title>Teaser</title>"
        "<description>Only a teaser.</description></item></channel></rss>"
    )
    rejection = only_rejection(read([write(tmp_path / "t.rss", rss)], options))
    assert rejection.locator == f"{tmp_path / 't.rss'}#1"
    assert "no http(s) link" in rejection.reason


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
def test_url_list_file(server: LocalServer, fast: Options, tmp_path: Path, gz: bool) -> None:
    server.route("/one", Response(body=PAGE))
    server.route("/two", Response(body=TEXT.encode(), content_type="text/plain"))
    listing = "\n".join(
        [
            "# morning reading",
            server.url("/one") + "   # the flood story",
            "",
            "not a url",
            server.url("/two#frag"),
            server.url("/three"),
        ]
    )
    path = write(tmp_path / "reading.urls", listing, gz=gz)
    results = read([path], fast)
    assert [type(r).__name__ for r in results] == ["Article", "Rejection", "Article", "Rejection"]
    one, bad, two, three = results
    assert one.locator == server.url("/one")
    assert isinstance(bad, Rejection) and bad.locator == f"{path}:4"
    assert "not an http(s) URL" in bad.reason
    assert isinstance(two, Article) and two.text == TEXT
    assert isinstance(three, Rejection) and three.stage == "fetch"


def test_given_fetcher_is_used_and_left_open(server: LocalServer, fast: Options) -> None:
    server.route("/p", Response(body=PAGE))
    with Fetcher(replace(fast, user_agent="caller-agent/1")) as fetcher:
        read([server.url("/p")], fast, fetcher=fetcher)
        again = fetcher.get(server.url("/p"))  # still usable: iter_articles did not close it
    assert again.status == 200
    assert [r.headers["User-Agent"] for r in server.requests] == ["caller-agent/1"] * 2


def test_demo_corpus_reads_without_rejections(options: Options) -> None:
    examples = Path(__file__).resolve().parents[1] / "examples"
    results = read([examples], options)
    found = articles(results)
    assert len(found) == len(results) >= 10
    assert {Path(a.locator or "").suffix.split("#")[0].split(":")[0] for a in found} == {
        ".html", ".txt", ".jsonl", ".xml",
    }  # fmt: skip
    for article in found:
        assert article.published is not None, article.locator
        assert article.published.tzinfo is not None
        assert 250 <= len(article.text) <= 4000, article.locator
    pages = [a for a in found if (a.locator or "").endswith(".html")]
    assert len(pages) == 3
    assert all(a.title and a.source and "All rights reserved" not in a.text for a in pages)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Headline\n\nKYIV, 27 March 2021 - A soldier was killed.", date(2021, 3, 27)),
        ("ERBIL, Iraq, 17 February 2021 - Rockets hit.", date(2021, 2, 17)),
        ("BOGOTA, Colombia, March 10, 2021 (Wire) - Talks.", date(2021, 3, 10)),
        ("Talks were held in Kyiv on 27 March 2021 - officials said.", None),
        ("No dateline at all.", None),
    ],
)
def test_dateline_date(text: str, expected: date | None) -> None:
    result = dateline_date(text)
    assert (result.date() if result else None) == expected
    assert result is None or result.tzinfo is not None


def test_text_file_dateline_gives_published(tmp_path: Path, options: Options) -> None:
    path = write(
        tmp_path / "wire.txt", "Strike kills three\n\nERBIL, Iraq, 17 February 2021 - A drone."
    )
    (article,) = read([path], options)
    assert isinstance(article, Article)
    assert article.published == datetime(2021, 2, 17, tzinfo=UTC)


def test_large_jsonl_with_bom_or_in_utf16_without_bom(tmp_path: Path, options: Options) -> None:
    # The first line puts a three-byte "—" across byte 8192, where the sniffed head ends.
    first = json.dumps({"text": "x" * 8178 + "— end."}, ensure_ascii=False)
    assert (codecs.BOM_UTF8 + first.encode()).index("—".encode()) == 8191
    lines = [first] + [
        json.dumps({"text": f"Réunion {i} à Genève — “talks”."}, ensure_ascii=False)
        for i in range(1, 400)
    ]
    body = "\n".join(lines) + "\n"
    bom = write(tmp_path / "bom.jsonl", codecs.BOM_UTF8 + body.encode())
    utf16 = write(tmp_path / "wide.jsonl", body.encode("utf-16-le"))
    for path in (bom, utf16):
        results = read([path], options)
        assert len(articles(results)) == len(results) == 400, path
        assert results[0].text.endswith("x— end.")
        assert results[399].text == "Réunion 399 à Genève — “talks”."
        assert results[399].locator == f"{path}:400"


# -- files that are not regular files ------------------------------------------------------


def test_named_pipe_in_a_folder_is_skipped_not_waited_for(tmp_path: Path, options: Options) -> None:
    import os
    import threading

    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "a.txt", TEXT)
    os.mkfifo(folder / "b.txt")  # nobody will ever write to it
    results: list[Article | Rejection] = []
    reader = threading.Thread(target=lambda: results.extend(read([folder], options)), daemon=True)
    reader.start()
    reader.join(20)
    if reader.is_alive():  # unblock the reader so the test process can end
        with open(folder / "b.txt", "wb"):
            pass
        pytest.fail("reading a folder waited on a named pipe")
    assert [a.locator for a in articles(results)] == [str(folder / "a.txt")]
    (rejection,) = [r for r in results if isinstance(r, Rejection)]
    assert rejection.locator == str(folder / "b.txt")
    assert "named pipe" in rejection.reason


def test_named_pipe_given_by_name_is_read_as_a_stream(tmp_path: Path, options: Options) -> None:
    import os
    import threading

    pipe = tmp_path / "stream.jsonl"
    os.mkfifo(pipe)
    lines = "".join(
        json.dumps({**RECORD, "url": f"https://x.example/{i}"}) + "\n" for i in range(3)
    )

    def producer() -> None:
        with open(pipe, "w", encoding="utf-8") as fh:
            fh.write(lines)

    threading.Thread(target=producer, daemon=True).start()
    got = articles(read([pipe], options))
    assert [a.url for a in got] == [f"https://x.example/{i}" for i in range(3)]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_endless_file_given_by_name_is_read_no_further_than_the_cap(
    tmp_path: Path, fast: Options
) -> None:
    endless = tmp_path / "endless.txt"
    endless.symlink_to("/dev/zero")
    rejection = only_rejection(read([endless], fast))
    assert f"more than {fast.fetch_max_bytes:,} bytes" in rejection.reason
