"""Property-based tests: random text and HTML through every stage of the real pipeline.

Whatever the input, nothing but :class:`InputError` (no article text) or a deliberate
:class:`StageError` with a reason escapes; every offset of every event, actor and toponym
indexes the article text; confidences are in 0..1 and the enumerated fields hold allowed
values. The real spaCy model and gazetteer are loaded once per session; example counts and
deadlines are kept moderate so the suite stays fast.
"""

from __future__ import annotations

import json
import os
import re
import string
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import eventwire
from eventwire.config import Options
from eventwire.errors import InputError, StageError
from eventwire.htmltext import (
    article_from_html,
    article_from_text,
    clean_text,
    decode_bytes,
    fragment_to_text,
)
from eventwire.model import DATE_PRECISIONS, GEO_PRECISIONS, MODALITIES, Article, Event, Rejection
from eventwire.ontology import PLOVER_TYPES
from eventwire.pipeline import Pipeline
from eventwire.sources import iter_articles, parse_date, record_to_article

#: Multiplies every example count: EVENTWIRE_PROPERTY_SCALE=20 for a long bug hunt.
SCALE = float(os.environ.get("EVENTWIRE_PROPERTY_SCALE", "1"))


def examples(count: int) -> int:
    """``count`` examples, scaled."""
    return max(1, int(count * SCALE))


#: Deadline per example: generous for a loaded 2-core machine, still catches a runaway case.
SETTINGS = settings(
    max_examples=examples(60),
    deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=SCALE == 1,  # the same examples in CI; a scaled-up hunt explores new ones
)
#: A StageError whose reason starts like ``KeyError: ...`` is a bug the runner caught.
_PYTHON_ERROR = re.compile(r"^[A-Z][A-Za-z]*(?:Error|Exception|Interrupt|Exit)\b")

# Words that wake every stage up: actors, places, triggers, dates, numbers, negation, modals.
VOCAB = (
    "Rebels", "the Syrian army", "SAA", "Turkey", "Ankara", "Moscow", "Russian forces",
    "Damascus", "Tehran", "SDF", "Kurdish-led forces", "protesters", "police", "militants",
    "attacked", "shelled", "killed", "bombed", "met", "signed", "agreement", "accused",
    "threatened", "may launch", "an offensive", "did not", "will", "reinforcements",
    "convoy", "protest", "in", "near", "north of", "Idlib", "Aleppo", "Kafr Uwayd",
    "Al-Bara", "Raqqa", "Ain Issa", "Baghdad", "Kidal", "Paris", "Springfield", "on",
    "Monday", "yesterday", "last week", "in the past few hours", "earlier this month",
    "10 December 2020", "2020-12-10", "three", "25", "civilians", "soldiers", "and",
    "of", "the", "were", "was", ",", ".", ";", "!", "?", "(", ")", '"', "'", "-", "—",
)  # fmt: skip

words = st.one_of(
    st.sampled_from(VOCAB),
    st.text(alphabet=string.ascii_letters + "'-", min_size=1, max_size=10),
    st.text(min_size=1, max_size=6),  # any unicode, controls and surrogates excluded by default
)
separators = st.sampled_from([" ", " ", " ", "  ", "\n", "\n\n", "\t", "\u00a0", ". ", ", "])


@st.composite
def news_text(draw: st.DrawFn) -> str:
    """Random text, mostly news-like words with random unicode mixed in."""
    tokens = draw(st.lists(st.tuples(words, separators), max_size=80))
    return "".join(w + s for w, s in tokens)


TAGS = ("p", "div", "span", "b", "i", "a", "h1", "li", "ul", "table", "td", "tr", "section",
        "article", "script", "style", "br", "header", "nav", "footer", "title", "time")  # fmt: skip


ATTRIBUTES = ("", ' class="x"', ' href="javascript:alert(1)"', " onclick='x()'",
              ' datetime="2020-12-10T08:00:00Z"', ' a="<>&"')  # fmt: skip


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda tag, attrs, inner, closed: f"<{tag}{attrs}>{inner}" + (f"</{tag}>" * closed),
        st.sampled_from(TAGS),
        st.sampled_from(ATTRIBUTES),
        st.lists(children, max_size=4).map("".join),
        st.booleans(),  # unclosed tags too
    )


html_fragment = st.recursive(news_text(), _element, max_leaves=12)


@st.composite
def html_page(draw: st.DrawFn) -> str:
    """A random, often broken, HTML page."""
    head = draw(st.sampled_from(["", "<!doctype html>", "<html>", "<html><head><title>T</title>"
                                 "<meta charset='utf-8'></head>"]))  # fmt: skip
    body = draw(html_fragment)
    tail = draw(st.sampled_from(["", "</body></html>", "</html", "<!--", "<![CDATA["]))
    return f"{head}<body>{body}{tail}"


@pytest.fixture(scope="session")
def pipeline(session_options: Options) -> Pipeline:
    """The default pipeline, model and gazetteer loaded once."""
    built = eventwire.api.pipeline_for(session_options)
    built.run(article_from_text("Rebels attacked Idlib on Monday.", locator="warm-up"))
    return built


def check_stage_error(exc: StageError) -> None:
    """A stage failure must be deliberate and say why, not a Python error the runner caught."""
    assert exc.stage and exc.reason.strip(), exc
    assert not _PYTHON_ERROR.match(exc.reason), f"a stage crashed: {exc}"


def check_events(text: str, events: list[Event]) -> None:
    """Every offset indexes ``text``; every value is in its allowed range or set."""
    ids = set()
    for e in events:
        assert 0 <= e.start < e.end <= len(text), (e.start, e.end, len(text))
        assert text[e.start : e.end] == e.sentence
        for what in ("trigger", "actor1", "actor2", "place"):
            start, end = getattr(e, f"{what}_start"), getattr(e, f"{what}_end")
            surface = e.trigger if what == "trigger" else getattr(e, f"{what}_text")
            if start is None or end is None:
                assert end is None and start is None, (what, start, end)
                continue
            assert 0 <= start <= end <= len(text), (what, start, end)
            assert text[start:end] == surface, (what, text[start:end], surface)
        assert 0.0 <= e.confidence <= 1.0
        assert e.event_type in PLOVER_TYPES
        assert e.modality in MODALITIES
        assert e.geo_precision is None or e.geo_precision in GEO_PRECISIONS
        assert e.date_precision is None or e.date_precision in DATE_PRECISIONS
        if e.latitude is not None or e.longitude is not None:
            assert -90 <= e.latitude <= 90 and -180 <= e.longitude <= 180  # type: ignore[operator]
        assert e.fatalities is None or e.fatalities >= 0
        assert e.event_id and e.event_id not in ids
        ids.add(e.event_id)
        assert e.pipeline_version
        json.dumps(e.to_dict())  # always serialisable


def run_one(pipeline: Pipeline, article: Article) -> None:
    try:
        events = pipeline.run(article)
    except StageError as exc:
        check_stage_error(exc)
        return
    check_events(article.text, events)


# ---------------------------------------------------------------------------- the pipeline


@SETTINGS
@given(text=news_text(), published=st.none() | st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)))  # fmt: skip
def test_random_text_through_every_stage(
    pipeline: Pipeline, text: str, published: datetime | None
) -> None:
    try:
        article = article_from_text(text, published=published, locator="<random>")
    except InputError as exc:
        # Only a text with nothing left once controls and whitespace are gone is refused.
        assert exc.reason and not clean_text(text)
        return
    assert clean_text(article.text) == article.text
    run_one(pipeline, article)


@settings(SETTINGS, max_examples=examples(15))
@given(texts=st.lists(news_text(), min_size=1, max_size=6))
def test_random_texts_in_one_batch(pipeline: Pipeline, texts: list[str]) -> None:
    """The batched path (``nlp.pipe``) holds the same guarantees, one result per article."""
    articles = []
    for i, text in enumerate(texts):
        try:
            articles.append(article_from_text(text, locator=f"<random {i}>"))
        except InputError:
            continue
    results = list(pipeline.run_many(articles))
    assert [a for a, _ in results] == articles
    for article, result in results:
        if isinstance(result, StageError):
            check_stage_error(result)
        else:
            check_events(article.text, result)


@SETTINGS
@given(html=html_page())
def test_random_html_through_extraction_and_every_stage(pipeline: Pipeline, html: str) -> None:
    try:
        article = article_from_html(html, locator="<random html>")
    except InputError as exc:
        assert exc.reason and exc.source == "<random html>"
        return
    assert article.text and clean_text(article.text) == article.text
    assert "<script" not in article.text.lower() or "<script" in html.lower()
    run_one(pipeline, article)


@SETTINGS
@given(text=news_text())
def test_geoparse_offsets_index_the_text(session_options: Options, text: str) -> None:
    for toponym in eventwire.geoparse(text, options=session_options):
        assert 0 <= toponym.start < toponym.end <= len(text)
        assert text[toponym.start : toponym.end] == toponym.text
        assert 0.0 <= toponym.confidence <= 1.0
        assert toponym.geo_precision is None or toponym.geo_precision in GEO_PRECISIONS
        if toponym.latitude is not None:
            assert -90 <= toponym.latitude <= 90
            assert toponym.longitude is not None and -180 <= toponym.longitude <= 180


# ---------------------------------------------------------------------------- text and HTML


@settings(SETTINGS, max_examples=examples(150))
@given(text=st.text())
def test_clean_text_is_idempotent_and_clean(text: str) -> None:
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\r]", cleaned)
    assert cleaned == cleaned.strip()


@settings(SETTINGS, max_examples=examples(100))
@given(fragment=html_fragment)
def test_fragment_to_text_never_fails(fragment: str) -> None:
    text = fragment_to_text(fragment)
    assert clean_text(text) == text


@settings(SETTINGS, max_examples=examples(200))
@given(data=st.binary(max_size=3000) | st.text().map(lambda t: t.encode("utf-16")))
def test_decode_bytes_gives_text_or_a_reason(data: bytes) -> None:
    try:
        text = decode_bytes(data, "<bytes>")
    except InputError as exc:
        assert exc.source == "<bytes>" and exc.reason
        return
    assert isinstance(text, str)


# ---------------------------------------------------------------------------- records


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
record_fields = st.fixed_dictionaries(
    {},
    optional={
        "url": json_values | st.just("https://news.example/a"),
        "title": json_values,
        "text": news_text() | json_values,
        "html": html_page() | json_values,
        "published": json_values | st.sampled_from(
            ["2020-12-10", "Thu, 10 Dec 2020 08:00:00 +0100", "10 December 2020", "yesterday",
             "0000-00-00", "99999-01-01", "1e300"]),
        "source": json_values,
    },
)  # fmt: skip


@SETTINGS
@given(record=record_fields | json_values)
def test_record_to_article_gives_an_article_or_a_reason(record: object) -> None:
    try:
        article = record_to_article(record, "<record>")
    except InputError as exc:
        assert exc.source == "<record>" and exc.reason and "\n" not in exc.reason
        return
    assert article.text and clean_text(article.text) == article.text
    assert article.published is None or article.published.tzinfo is not None


@SETTINGS
@given(value=json_values | st.text(max_size=40) | st.datetimes())
def test_parse_date_gives_an_aware_date_none_or_a_reason(value: object) -> None:
    try:
        parsed = parse_date(value, "<date>")
    except InputError as exc:
        assert exc.reason
        return
    assert parsed is None or parsed.tzinfo is not None


@settings(SETTINGS, max_examples=examples(25))
@given(
    lines=st.lists(
        st.binary(max_size=200)
        | record_fields.map(lambda r: json.dumps(r).encode())
        | json_values.map(lambda v: json.dumps(v).encode()),
        max_size=8,
    )
)
def test_jsonl_files_of_random_lines_never_stop_the_reader(
    session_options: Options, tmp_path_factory: pytest.TempPathFactory, lines: list[bytes]
) -> None:
    path = tmp_path_factory.mktemp("jsonl") / "random.jsonl"
    path.write_bytes(b"\n".join(line.replace(b"\n", b" ") for line in lines))
    items = list(iter_articles([str(path)], options=session_options))
    assume(items)
    for item in items:
        assert isinstance(item, (Article, Rejection))
        if isinstance(item, Rejection):
            assert item.reason and item.locator.startswith(str(path))


@settings(SETTINGS, max_examples=examples(25))
@given(data=st.binary(max_size=2000) | html_page().map(str.encode),
       suffix=st.sampled_from([".txt", ".html", ".json", ".xml", ".urls"]))  # fmt: skip
def test_random_files_of_every_kind_give_articles_or_rejections(
    session_options: Options, tmp_path_factory: pytest.TempPathFactory, data: bytes, suffix: str
) -> None:
    path: Path = tmp_path_factory.mktemp("files") / f"random{suffix}"
    # URL lists and feeds would fetch: keep their links pointing at nothing reachable.
    path.write_bytes(data.replace(b"http", b"hxxp"))
    for item in iter_articles([str(path)], options=session_options):
        assert isinstance(item, (Article, Rejection))
        if isinstance(item, Rejection):
            assert item.reason and item.stage in ("read", "fetch")
        else:
            assert item.text and clean_text(item.text) == item.text


def test_the_checks_are_not_vacuous(pipeline: Pipeline) -> None:
    """Texts built from the same vocabulary do give events with every kind of offset."""
    text = (
        "Rebels attacked the Syrian army near Idlib on Monday, killing three soldiers. "
        "Turkey threatened SDF in Ain Issa.\n\nMoscow and Damascus signed an agreement."
    )
    events = pipeline.run(article_from_text(text, published=datetime(2020, 12, 10)))
    check_events(text, events)
    assert len(events) >= 2
    assert any(e.actor1_start is not None and e.place_start is not None for e in events)
    assert any(e.actor2_start is not None for e in events)
    assert [t.text for t in eventwire.geoparse(text, options=pipeline.options)][:1] == ["Idlib"]


feed_link = st.sampled_from(
    ["", "http://127.0.0.1:9/closed", "javascript:alert(1)", "relative/page", "http://", "::"]
) | st.text(max_size=15)
feed_date = st.sampled_from(
    ["Tue, 05 May 2020 08:00:00 +0000", "2020-12-10T08:00:00Z", "yesterday", "32 Foo 99999", ""]
) | st.text(max_size=12)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def feed_document(draw: st.DrawFn) -> bytes:
    """A random RSS or Atom document: random entries, sometimes cut short or mis-encoded."""
    atom = draw(st.booleans())
    entries = []
    for _ in range(draw(st.integers(0, 4))):
        title, link, date = draw(news_text()), draw(feed_link), draw(feed_date)
        body = draw(news_text() | html_fragment)
        escape = draw(st.booleans())
        body = _escape(body) if escape else body
        if atom:
            entries.append(f"<entry><title>{_escape(title)}</title><link href=\"{_escape(link)}\"/>"
                           f"<updated>{_escape(date)}</updated><content type='html'>{body}"
                           "</content></entry>")  # fmt: skip
        else:
            entries.append(f"<item><title>{_escape(title)}</title><link>{_escape(link)}</link>"
                           f"<pubDate>{_escape(date)}</pubDate><description>{body}"
                           "</description></item>")  # fmt: skip
    if atom:
        doc = ("<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
               f"<title>F</title>{''.join(entries)}</feed>")  # fmt: skip
    else:
        doc = (f"<?xml version='1.0'?><rss version='2.0'><channel><title>F</title>"
               f"{''.join(entries)}</channel></rss>")  # fmt: skip
    data = doc.encode(draw(st.sampled_from(["utf-8", "utf-16", "latin-1"])), errors="replace")
    cut = draw(st.integers(0, len(data)))
    return data if draw(st.booleans()) else data[:cut]


@pytest.mark.filterwarnings("ignore::DeprecationWarning:feedparser")
@settings(SETTINGS, max_examples=examples(40))
@given(data=feed_document())
def test_random_feeds_give_articles_or_rejections(
    session_options: Options, tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    """Malformed feeds, odd links and dates: every entry is an article or a rejection."""
    path = tmp_path_factory.mktemp("feeds") / "random.rss"
    path.write_bytes(data)
    fast = replace(session_options, fetch_timeout=2.0)
    for item in iter_articles([str(path)], options=fast):
        assert isinstance(item, (Article, Rejection))
        if isinstance(item, Rejection):
            assert item.reason and "\n" not in item.reason and item.stage in ("read", "fetch")
            assert item.locator.startswith(str(path))
        else:
            assert item.text and clean_text(item.text) == item.text
            assert item.published is None or item.published.tzinfo is not None
