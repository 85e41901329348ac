"""Text from bytes, plain text and HTML pages (htmltext)."""

from __future__ import annotations

import codecs
import gzip
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventwire.errors import InputError
from eventwire.htmltext import (
    article_from_html,
    article_from_text,
    clean_text,
    decode_bytes,
    decode_html,
    fragment_to_text,
    looks_like_html,
)

from .conftest import DATA

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
BENCHMARK = DATA / "article-extraction-benchmark"
WESTERN = "Le café “Noir” coûte 5 €, déjà vu — naïve résumé."
GERMAN = "Der Präsident sagte, dass die Übergänge geöffnet würden. Größe, Kälte."


# -- looks_like_html ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "<!DOCTYPE html><html><body>x</body></html>",
        "  \n<html lang='en'><p>x</p></html>",
        "<p>Just a paragraph</p>",
        "<div class='story'>Text</div>",
        "Intro line\n<br/>second",
    ],
)
def test_looks_like_html_recognises_markup(text: str) -> None:
    assert looks_like_html(text)


@pytest.mark.parametrize(
    "text",
    [
        "Turkish drones struck positions near Ain Issa on Tuesday.",
        "Casualties were < 10 and > 3, officials said.",
        "The <unknown> tag is not HTML; neither is a <placeholder>.",
        "",
    ],
)
def test_looks_like_html_leaves_plain_text_alone(text: str) -> None:
    assert not looks_like_html(text)


# -- decode_bytes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (WESTERN.encode("utf-8"), WESTERN),
        (codecs.BOM_UTF8 + WESTERN.encode("utf-8"), WESTERN),
        (codecs.BOM_UTF16_LE + WESTERN.encode("utf-16-le"), WESTERN),
        (codecs.BOM_UTF16_BE + WESTERN.encode("utf-16-be"), WESTERN),
        (codecs.BOM_UTF32_LE + WESTERN.encode("utf-32-le"), WESTERN),
        (WESTERN.encode("utf-16-le"), WESTERN),
        (WESTERN.encode("utf-16-be"), WESTERN),
        (WESTERN.encode("cp1252"), WESTERN),
        (GERMAN.encode("latin-1"), GERMAN),
        ("Москва заявила, что переговоры продолжатся.".encode(), None),
    ],
    ids=[
        "utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf32le-bom", "utf16le-nobom",
        "utf16be-nobom", "cp1252", "latin1", "cyrillic-utf8",
    ],
)  # fmt: skip
def test_decode_bytes_finds_the_encoding(data: bytes, expected: str | None) -> None:
    text = decode_bytes(data, "f.txt")
    assert text == (expected if expected is not None else data.decode("utf-8"))
    assert not text.startswith("\ufeff")


def test_decode_bytes_keeps_cyrillic_legacy_encoding() -> None:
    text = "Министерство обороны сообщило о новых ударах по позициям противника у села. " * 3
    assert decode_bytes(text.encode("cp1251"), "f.txt") == text


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "PNG"),
        (b"PK\x03\x04" + b"\x00" * 40, "ZIP"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (bytes(range(0, 32)) * 20, "control bytes"),
        (b"text\x00\x00\x00\x01\x02\x03" * 50, "NUL"),
    ],
)
def test_decode_bytes_rejects_binary(data: bytes, kind: str) -> None:
    with pytest.raises(InputError) as info:
        decode_bytes(data, "photo.txt")
    assert info.value.source == "photo.txt"
    assert "binary file, not text" in info.value.reason
    assert kind in info.value.reason


def test_decode_bytes_tolerates_a_stray_nul() -> None:
    assert decode_bytes(b"A long line of ordinary text\x00 with one NUL in it.", "f") == (
        "A long line of ordinary text\x00 with one NUL in it."
    )


def test_decode_bytes_reports_a_lying_bom() -> None:
    with pytest.raises(InputError, match="byte-order mark"):
        decode_bytes(codecs.BOM_UTF8 + b"caf\xe9", "f.txt")


def test_decode_html_follows_meta_charset_and_header() -> None:
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>Größe</p></body></html>'
    assert "Größe" in decode_html(page.encode("latin-1"), "p.html")
    # An HTTP charset wins over guessing; windows-1251 is not what a guess would pick here.
    data = "<p>Киев</p>".encode("cp1251")
    assert decode_html(data, "p.html", declared="windows-1251") == "<p>Киев</p>"
    # A bogus declaration falls back to sniffing.
    assert decode_html("<p>né</p>".encode(), "p.html", declared="no-such-charset") == "<p>né</p>"


# -- article_from_text ----------------------------------------------------------------------


def test_article_from_text_normalises_line_ends_and_controls() -> None:
    raw = "\ufeffTitle line\r\n\r\n\r\nFirst  para\x00graph.\tTab\x07.\rSecond line\n \n\nLast."
    article = article_from_text(raw, locator="x.txt")
    assert article.text == "Title line\n\nFirst paragraph. Tab.\nSecond line\n\nLast."
    assert article.locator == "x.txt"
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\r]", article.text)


@pytest.mark.parametrize("raw", ["", "   ", "\n\t \r\n", "\x00\x01\x02"])
def test_article_from_text_rejects_empty_text(raw: str) -> None:
    with pytest.raises(InputError, match="no article text") as info:
        article_from_text(raw, locator="empty.txt")
    assert info.value.source == "empty.txt"


def test_article_from_text_makes_dates_aware_and_keeps_fields() -> None:
    article = article_from_text(
        "Text.", url="https://e.example/a", published=datetime(2020, 12, 10, 8), title=" A\nB "
    )
    assert article.published == datetime(2020, 12, 10, 8, tzinfo=UTC)
    assert article.title == "A B"
    assert article.locator == "https://e.example/a"
    plus_two = timezone(timedelta(hours=2))
    aware = article_from_text("Text.", published=datetime(2020, 1, 1, tzinfo=plus_two))
    assert aware.published is not None and aware.published.utcoffset() == timedelta(hours=2)


@given(st.text())
def test_clean_text_is_idempotent_and_offset_safe(raw: str) -> None:
    cleaned = clean_text(raw)
    assert clean_text(cleaned) == cleaned
    assert "\r" not in cleaned and "\x00" not in cleaned
    assert "\n\n\n" not in cleaned
    assert cleaned == cleaned.strip()


# -- article_from_html ----------------------------------------------------------------------


def test_article_from_html_keeps_the_body_and_drops_the_chrome() -> None:
    html = (FIXTURES / "article.html").read_text(encoding="utf-8")
    article = article_from_html(html, url="https://valley.example/flood", locator="article.html")
    assert article.title is not None and "Flooding cuts road" in article.title
    assert article.published == datetime(2021, 3, 4, 9, 15, tzinfo=UTC)
    assert article.source == "Valley Courier"
    assert article.url == "https://valley.example/flood"
    assert article.locator == "article.html"
    text = article.text
    assert "Heavy rain on Wednesday" in text
    assert "reopen on Friday" in text
    for chrome in ("Subscribe now", "Most read", "All rights reserved", "analytics", "serif"):
        assert chrome not in text
    # Paragraphs are separated by one blank line, so sentence offsets stay meaningful.
    paragraphs = text.split("\n\n")
    assert any(p.startswith("Residents of the low-lying streets") for p in paragraphs)
    assert len(paragraphs) >= 4


def test_article_from_html_given_date_wins_over_page_date() -> None:
    html = (FIXTURES / "article.html").read_text(encoding="utf-8")
    article = article_from_html(html, published=datetime(2021, 3, 5))
    assert article.published == datetime(2021, 3, 5, tzinfo=UTC)


def test_article_from_html_without_a_date_has_none() -> None:
    html = "<html><body><article><p>" + "A sentence without any date. " * 20 + "</p></article>"
    assert article_from_html(html + "</body></html>").published is None


def test_article_from_html_with_scripts_and_styles_only_is_an_input_error() -> None:
    html = (FIXTURES / "scripts-only.html").read_text(encoding="utf-8")
    with pytest.raises(InputError, match="no article text found in the page") as info:
        article_from_html(html, locator="scripts-only.html")
    assert info.value.source == "scripts-only.html"


def test_article_from_html_lists_become_lines() -> None:
    html = (
        "<html><body><article><p>" + "The council listed the closed roads on Monday. " * 4
        + "</p><ul><li>North road</li><li>Quay road</li></ul></article></body></html>"
    )  # fmt: skip
    text = article_from_html(html).text
    assert "North road\nQuay road" in text


def test_fragment_to_text_breaks_paragraphs_and_drops_scripts() -> None:
    fragment = "<p>One <b>bold</b> line.<br>Next line.</p><script>evil()</script><p>Two.</p>"
    assert fragment_to_text(fragment) == "One bold line.\nNext line.\n\nTwo."
    assert fragment_to_text("plain summary,  no markup") == "plain summary, no markup"
    assert fragment_to_text("") == ""


# -- frozen real pages ----------------------------------------------------------------------

PAGES = [
    "04a6711caa7c687592777718866e781e976e0fe684faebe8b3cedcef8cd0ea34",
    "05844573ca7e1fba714d715bb11ca08c26e25328999c74a1cb3bc8a0e4399f0f",
    "0d461229",
    "1ee91d1f",
]


def _tokens(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", text.lower()))


@pytest.fixture(scope="module")
def ground_truth() -> dict[str, dict[str, str]]:
    path = BENCHMARK / "ground-truth.json"
    if not path.exists():
        pytest.skip(f"benchmark data not available at {path}")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("prefix", PAGES)
def test_real_pages_recall_most_of_the_true_body(
    prefix: str, ground_truth: dict[str, dict[str, str]]
) -> None:
    (page_id,) = [k for k in ground_truth if k.startswith(prefix)]
    data = gzip.decompress((BENCHMARK / "html" / f"{page_id}.html.gz").read_bytes())
    truth = ground_truth[page_id]
    article = article_from_html(decode_html(data, page_id), url=truth["url"], locator=page_id)
    gold, found = _tokens(truth["articleBody"]), _tokens(article.text)
    recall = sum((gold & found).values()) / sum(gold.values())
    precision = sum((gold & found).values()) / sum(found.values())
    assert recall >= 0.8, f"{page_id}: token recall {recall:.2f}"
    assert precision >= 0.5, f"{page_id}: token precision {precision:.2f}"
    assert "\n\n" in article.text
    assert article.published is not None and article.published.tzinfo is not None


def test_page_time_of_day_survives_a_date_in_the_canonical_url() -> None:
    body = "<p>" + "Officials met in the capital to discuss the border dispute. " * 5 + "</p>"
    head = (
        '<link rel="canonical" href="https://news.example/2021/02/16/talks">'
        '<meta property="article:published_time" content="2021-02-16T09:40:00+02:00">'
    )
    page = f"<html><head>{head}</head><body><article>{body}</article></body></html>"
    published = article_from_html(page).published
    assert published == datetime(2021, 2, 16, 9, 40, tzinfo=timezone(timedelta(hours=2)))
    other_day = page.replace("2021-02-16T09:40", "2021-02-17T09:40")
    assert article_from_html(other_day).published == datetime(2021, 2, 16, tzinfo=UTC)


def test_page_url_comes_from_the_canonical_link_unless_given() -> None:
    html = (
        (FIXTURES / "article.html")
        .read_text(encoding="utf-8")
        .replace(
            "<title>", '<link rel="canonical" href="https://valley.example/news/flood"><title>'
        )
    )
    assert article_from_html(html).url == "https://valley.example/news/flood"
    assert article_from_html(html, url="https://mirror.example/x").url == "https://mirror.example/x"
    plain = (FIXTURES / "article.html").read_text(encoding="utf-8")
    assert article_from_html(plain).url is None


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Rebels attacked Saraqib on Monday.</p>", "Rebels attacked Saraqib on Monday."),
        ("<div>Police dispersed <b>protesters</b> in Bamako.</div><script>x()</script>",
         "Police dispersed protesters in Bamako."),
    ],
)  # fmt: skip
def test_short_html_snippets_are_still_articles(html: str, expected: str) -> None:
    assert article_from_html(html).text == expected


_STORY = (
    "<p>Rebels shelled the village of Barah in southern Idlib on Monday, killing three.</p>"
    "<p>The army answered with artillery fire on positions near Kafr Uwayd.</p>"
)
_AFTER = "<p>Later, clashes spread to the outskirts of Saraqib, residents said.</p>"


@pytest.mark.parametrize("depth", [150, 300, 2000])
@pytest.mark.parametrize("closed", [True, False])
def test_deeply_nested_pages_keep_all_their_text(depth: int, closed: bool) -> None:
    # libxml2 silently drops everything below 256 levels; the page must lose nothing.
    opening = '<div class="w"><span>' * depth
    closing = "</span></div>" * depth if closed else ""
    body = f"{opening}{_STORY}{closing}{_AFTER}"
    page = f"<html><head><title>T</title></head><body>{body}</body></html>"
    text = article_from_html(page, locator="deep.html").text
    assert "Barah in southern Idlib" in text
    assert "near Kafr Uwayd" in text
    assert "outskirts of Saraqib" in text
    assert "three.\n\nThe army" in text  # paragraphs stay apart
    fragment = fragment_to_text(body)
    assert "Barah" in fragment and "Kafr Uwayd" in fragment and "Saraqib" in fragment


def test_markup_inside_scripts_and_comments_does_not_count_as_nesting() -> None:
    script = "<script>" + "document.write('<div>');" * 400 + "</script>"
    comment = "<!--" + "<div>" * 400 + "-->"
    story = "<div><p>Police arrested 12 protesters in Lagos.</p></div>"
    page = f"<html><body>{script}{comment}{story}</body></html>"
    text = article_from_html(page, locator="x.html").text
    assert "arrested 12 protesters" in text
