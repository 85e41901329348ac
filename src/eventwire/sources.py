"""Inputs to articles: paths, folders, URLs, URL lists, feeds, JSON and JSONL records.

:func:`iter_articles` turns what a user names into :class:`~eventwire.model.Article`
objects, lazily and in order, and every input that cannot be read into a
:class:`~eventwire.model.Rejection` (stage ``read`` or ``fetch``): it never raises for a bad
input, so one broken file does not stop a batch.

What each input may be:

- an ``http://`` or ``https://`` URL: fetched; an RSS/Atom feed gives its entries, plain
  text gives one article, anything else is read as an HTML page;
- a folder: every file below it with a known extension, in sorted path order; hidden files
  and folders (name starting with ``.``) and files with other extensions are skipped
  silently, since folders commonly hold images, notes and the like. A file named explicitly
  with an unknown extension is a rejection;
- a file, by extension (see :data:`FILE_KINDS`), optionally gzip-compressed (``.gz``):
  ``.html``/``.htm`` pages, ``.txt`` texts, ``.json`` (one record or a list of records),
  ``.jsonl`` (one record per line, streamed), ``.xml``/``.rss``/``.atom`` feeds and
  ``.urls`` (one URL per line, ``#`` starts a comment). A page or text file larger than
  ``fetch_max_bytes`` (after decompression) is a rejection, as a fetched page would be.

A record is a JSON object with ``text`` or ``html`` and optionally ``url``, ``title``,
``published`` and ``source``. Locators name where each article came from: ``path``,
``path:LINE`` (JSONL and URL-list lines), ``path#N`` (the N-th record of a JSON list or entry
of a feed file, from 1) and ``URL#N`` (entries of a fetched feed).

Feed entries whose content or summary holds at least :data:`FULL_CONTENT_CHARS` characters
of text are used as they are; shorter ones (teasers) are replaced by the page at the entry's
link, fetched. A feed with XML errors is read leniently (as feed readers do) when entries can
still be recovered, and rejected when none can.
"""

from __future__ import annotations

import codecs
import email.utils
import gzip
import io
import json
import os
import re
import warnings
import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from .config import Options
from .errors import FetchError, InputError
from .fetch import Fetcher, FetchResult
from .htmltext import (
    article_from_html,
    article_from_text,
    decode_bytes,
    decode_html,
    fragment_to_text,
)
from .model import Article, Rejection

__all__ = [
    "FILE_KINDS",
    "FULL_CONTENT_CHARS",
    "iter_articles",
    "dateline_date",
    "parse_date",
    "read_file_bytes",
    "record_to_article",
]

#: File extension -> how the file is read. ``.gz`` may follow any of them.
FILE_KINDS: dict[str, str] = {
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".txt": "text",
    ".text": "text",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
    ".urls": "urls",
}

#: A feed entry with at least this many characters of text is taken as the full article.
FULL_CONTENT_CHARS = 300

#: Fields a record may carry; others are ignored.
RECORD_FIELDS = ("url", "title", "text", "html", "published", "source")

_FEED_MEDIA = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
_HTML_MEDIA = frozenset(
    {"", "text/html", "application/xhtml+xml", "text/xml", "application/xml", "text/plain"}
)
_URL_LIKE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:rdf)[\s>]", re.IGNORECASE)
_YEAR = re.compile(r"\d{4}")
_RFC822 = re.compile(
    r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?"
    r"\s*(?:[+-]\d{4}|[A-Za-z]{1,5})?\s*$"
)
_GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)
_WIDE_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)
#: A wire-style dateline opening a paragraph: "ERBIL, Iraq, 17 February 2021 - ...".
_DATELINE = re.compile(
    r"^[A-Z][A-Z .'’-]{1,40}(?:,\s*[A-Z][A-Za-z .'’-]{1,40}){0,2},\s*"
    r"(\d{1,2}\s+[A-Z][a-z]+\s+\d{4}|[A-Z][a-z]+\.?\s+\d{1,2},\s+\d{4})\s*(?:[-–—(:]|$)",
    re.MULTILINE,
)


def iter_articles(
    inputs: Sequence[str], *, options: Options, fetcher: Fetcher | None = None
) -> Iterator[Article | Rejection]:
    """Articles from paths, folders, URLs, URL lists and feeds, lazily and in order.

    Args:
        inputs: Paths (files or folders) and http(s) URLs.
        options: Resolved options (fetch limits, User-Agent).
        fetcher: Fetcher to use for URLs; when None, one is created from ``options`` on
            first need and closed when the iteration ends.

    Yields:
        An :class:`Article` per article read, or a :class:`Rejection` per input, record,
        line or feed entry that could not be read (stage ``read`` or ``fetch``).
    """
    reader = _Reader(options, fetcher)
    try:
        for item in inputs:
            yield from reader.read_input(item)
    finally:
        reader.close()


def parse_date(value: object, locator: str) -> datetime | None:
    """A timezone-aware datetime from what records and feeds put in a date field.

    Accepts ISO 8601, RFC 822 (``Thu, 10 Dec 2020 08:00:00 +0100``), common written forms
    with a four-digit year (``10 December 2020``, ``Dec 10, 2020 8:00 AM``, ``2020/12/10``;
    ``10/12/2020`` reads month first), date and datetime objects, and Unix timestamps.
    Naive values are taken as UTC.

    Args:
        value: The field value; None or ``""`` means no date.
        locator: Where the value came from, for the error message.

    Returns:
        The datetime, or None when there is no date.

    Raises:
        InputError: The value is not a date in any of these forms.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise InputError(locator, f"published timestamp {value!r} is out of range") from None
    if not isinstance(value, str):
        raise InputError(locator, f"published must be a date string, not {type(value).__name__}")
    text = value.strip()
    if not text:
        return None
    try:
        return _aware(datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")))
    except ValueError:
        pass
    if _RFC822.match(text):
        # Only for what looks like RFC 822: the email parser ignores what it does not know
        # (it reads "8:15 PM" as 08:15).
        try:
            return _aware(email.utils.parsedate_to_datetime(text))
        except (TypeError, ValueError, IndexError):
            pass
    if _YEAR.search(text):
        from dateutil import parser as date_parser  # type: ignore[import-untyped]

        with warnings.catch_warnings():
            # Unknown zone names (``EST``) warn and give a naive time, which we take as UTC.
            warnings.simplefilter("ignore")
            try:
                return _aware(date_parser.parse(text))
            except (ValueError, OverflowError, TypeError):
                pass
    raise InputError(
        locator,
        f"cannot read the published date {text!r}: use ISO 8601 (2020-12-10 or "
        "2020-12-10T08:00:00Z), an RFC 822 date or a written date with a four-digit year",
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def dateline_date(text: str) -> datetime | None:
    """The date of a wire-style dateline near the start of a plain text, if there is one.

    Plain-text files carry no metadata; agency copy states its date in the dateline
    (``KYIV, 27 March 2021 - ...`` or ``BOGOTA, Colombia, March 10, 2021 (Reuters) -``).

    Args:
        text: The article text.

    Returns:
        Midnight UTC of the dateline's day, or None when the first paragraphs have none.
    """
    match = _DATELINE.search(text[:1000])
    if match is None:
        return None
    try:
        return parse_date(match.group(1), "<dateline>")
    except InputError:
        return None


def _file_kind(path: Path) -> tuple[str | None, bool]:
    name = path.name.lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[:-3]
    return FILE_KINDS.get(os.path.splitext(name)[1]), compressed


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(Path(folder) / name for name in files if not name.startswith("."))
    # One order for the whole tree, by path components, whatever order the OS lists them in.
    return sorted(found, key=lambda p: p.relative_to(root).parts)


def _looks_like_feed(result: FetchResult) -> bool:
    if result.content_type in _FEED_MEDIA:
        return True
    head = result.content[:2048]
    return _FEED_ROOT.search(head) is not None and b"<html" not in head.lower()


def _supported() -> str:
    return ", ".join(FILE_KINDS) + " (each optionally .gz)"


class _Reader:
    """State of one :func:`iter_articles` run: the options and the fetcher, made on demand."""

    def __init__(self, options: Options, fetcher: Fetcher | None) -> None:
        self.options = options
        self._fetcher = fetcher
        self._own_fetcher = fetcher is None

    @property
    def fetcher(self) -> Fetcher:
        if self._fetcher is None:
            self._fetcher = Fetcher(self.options)
        return self._fetcher

    def close(self) -> None:
        if self._own_fetcher and self._fetcher is not None:
            self._fetcher.close()
            self._fetcher = None

    # -- inputs ---------------------------------------------------------------------------

    def read_input(self, item: str) -> Iterator[Article | Rejection]:
        text = str(item).strip()
        if _URL_LIKE.match(text):
            yield from self.read_url(text, text)
            return
        if not text:
            yield Rejection("<empty>", "read", "empty input name; give a path or an http(s) URL")
            return
        path = Path(text).expanduser()
        if path.is_dir():
            for file in _walk(path):
                if file.is_file():
                    yield from self.read_file(file, explicit=False)
                elif _file_kind(file)[0] is not None:
                    # Opening a named pipe waits for a writer that may never come.
                    yield Rejection(
                        str(file),
                        "read",
                        "not a regular file (a named pipe, socket or device): skipped in a "
                        "folder; name it on its own to read from it",
                    )
        elif path.exists():
            yield from self.read_file(path, explicit=True)
        else:
            yield Rejection(
                text, "read", "no such file or directory; give an existing path or an http(s) URL"
            )

    def read_file(self, path: Path, *, explicit: bool) -> Iterator[Article | Rejection]:
        locator = str(path)
        kind, compressed = _file_kind(path)
        if kind is None:
            if explicit:
                suffix = path.suffix or "(none)"
                yield Rejection(
                    locator, "read", f"unsupported file type {suffix}; supported: {_supported()}"
                )
            return
        if kind == "jsonl":
            yield from self.read_jsonl(path, compressed)
            return
        try:
            # One page or text is held to the cap of a fetched page: a 20 MB page took
            # trafilatura minutes and most of a gigabyte. Feeds, JSON and URL lists hold many.
            limit = self.options.fetch_max_bytes if kind in ("html", "text") else None
            data = read_file_bytes(path, compressed, limit)
        except InputError as exc:
            yield Rejection(exc.source, "read", exc.reason)
            return
        if not data:
            yield Rejection(locator, "read", "empty file (0 bytes)")
            return
        if kind == "urls":
            yield from self.read_url_list(data, locator)
        elif kind == "feed":
            yield from self.read_feed(data, locator, None)
        elif kind == "json":
            yield from self.read_json(data, locator)
        else:
            try:
                if kind == "html":
                    yield article_from_html(decode_html(data, locator), locator=locator)
                else:
                    text = decode_bytes(data, locator)
                    yield article_from_text(text, published=dateline_date(text), locator=locator)
            except InputError as exc:
                yield Rejection(exc.source, "read", exc.reason)

    def read_url(self, url: str, locator: str) -> Iterator[Article | Rejection]:
        try:
            result = self.fetcher.get(url)
        except FetchError as exc:
            yield Rejection(locator, "fetch", exc.reason, url=url)
            return
        if _looks_like_feed(result):
            yield from self.read_feed(result.content, locator, result.final_url)
            return
        if result.content_type not in _HTML_MEDIA:
            yield Rejection(
                locator,
                "read",
                f"unsupported content type {result.content_type!r}: expected an HTML page, "
                "plain text or an RSS/Atom feed",
                url=url,
            )
            return
        try:
            yield self._article_from_result(result, locator)
        except InputError as exc:
            yield Rejection(exc.source, "read", exc.reason, url=url)

    def read_url_list(self, data: bytes, locator: str) -> Iterator[Article | Rejection]:
        try:
            text = decode_bytes(data, locator)
        except InputError as exc:
            yield Rejection(exc.source, "read", exc.reason)
            return
        for lineno, line in enumerate(text.splitlines(), 1):
            # "#" starts a comment at the start of a line or after a space; URLs keep fragments.
            url = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
            if not url:
                continue
            if not re.match(r"^https?://", url, re.IGNORECASE):
                yield Rejection(
                    f"{locator}:{lineno}",
                    "read",
                    f"not an http(s) URL: {url[:80]!r}; a .urls file holds one URL per line",
                )
                continue
            yield from self.read_url(url, url)

    # -- records ---------------------------------------------------------------------------

    def read_json(self, data: bytes, locator: str) -> Iterator[Article | Rejection]:
        try:
            value = json.loads(decode_bytes(data, locator))
        except InputError as exc:
            yield Rejection(exc.source, "read", exc.reason)
            return
        except json.JSONDecodeError as exc:
            yield Rejection(locator, "read", f"invalid JSON: {exc}")
            return
        if isinstance(value, dict):
            yield _record_or_rejection(value, locator)
        elif isinstance(value, list):
            for index, record in enumerate(value, 1):
                yield _record_or_rejection(record, f"{locator}#{index}")
        else:
            yield Rejection(
                locator,
                "read",
                f"a JSON file must hold one record (an object) or a list of records, "
                f"not a {type(value).__name__}",
            )

    def read_jsonl(self, path: Path, compressed: bool) -> Iterator[Article | Rejection]:
        locator = str(path)
        lineno = 0
        records = 0
        try:
            with _open(path, compressed) as fh:
                head = fh.read(8192)
                if not head:
                    yield Rejection(locator, "read", "empty file (0 bytes)")
                    return
                wide = head.startswith(_WIDE_BOMS) or head.count(0) > len(head) // 4
                if not wide and not head.startswith(codecs.BOM_UTF8):
                    decode_bytes(head, locator)  # rejects binary content before a flood of lines
                # No seek back: a named pipe streams once.
                lines: Iterator[bytes] | list[bytes] = _lines_after(head, fh)
                if wide:
                    # UTF-16/32 cannot be split on b"\n"; such files are decoded whole.
                    text = decode_bytes(head + fh.read(), locator)
                    lines = [line.encode("utf-8") for line in text.splitlines()]
                for raw in lines:
                    lineno += 1
                    if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                        raw = raw[3:]
                    if not raw.strip():
                        continue
                    records += 1
                    yield _jsonl_line(raw, f"{locator}:{lineno}")
        except InputError as exc:
            yield Rejection(exc.source, "read", exc.reason)
            return
        except _GZIP_ERRORS as exc:
            where = f" after line {lineno}; the lines before it were read" if lineno else ""
            yield Rejection(locator, "read", f"corrupt or truncated gzip file ({exc}){where}")
            return
        except OSError as exc:
            yield Rejection(locator, "read", f"cannot read the file: {exc}")
            return
        if records == 0:
            yield Rejection(locator, "read", "no records: the file holds only blank lines")

    # -- feeds -----------------------------------------------------------------------------

    def read_feed(
        self, data: bytes, locator: str, feed_url: str | None
    ) -> Iterator[Article | Rejection]:
        import feedparser

        # A stream, never a string: feedparser fetches strings that look like URLs or paths.
        parsed = feedparser.parse(io.BytesIO(data))
        entries = parsed.get("entries") or []
        if not entries:
            if parsed.get("bozo"):
                problem = parsed.get("bozo_exception")
                yield Rejection(
                    locator, "read", f"malformed feed, no entries could be read ({problem})"
                )
            elif not parsed.get("version"):
                yield Rejection(
                    locator,
                    "read",
                    "not an RSS or Atom feed (no <rss>, <feed> or <rdf:RDF> root element)",
                )
            return
        source = (parsed.get("feed") or {}).get("title") or None
        for index, entry in enumerate(entries, 1):
            yield from self._entry(entry, f"{locator}#{index}", feed_url, source)

    def _entry(
        self, entry: Any, locator: str, feed_url: str | None, source: str | None
    ) -> Iterator[Article | Rejection]:
        link = entry.get("link") or None
        if link and feed_url:
            link = urljoin(feed_url, link)
        title = entry.get("title") or None
        published = _entry_date(entry, locator)
        candidates = [c.get("value") or "" for c in entry.get("content") or []]
        candidates.append(entry.get("summary") or "")
        text = max((fragment_to_text(c) for c in candidates), key=len, default="")
        if len(text) >= FULL_CONTENT_CHARS:
            yield article_from_text(
                text, url=link, published=published, title=title, source=source, locator=locator
            )
            return
        if not link or not re.match(r"^https?://", link, re.IGNORECASE):
            yield Rejection(
                locator,
                "read",
                f"feed entry holds only {len(text)} characters of text (full articles have "
                f"at least {FULL_CONTENT_CHARS}) and no http(s) link to fetch the article from",
                url=link,
            )
            return
        try:
            result = self.fetcher.get(link)
        except FetchError as exc:
            yield Rejection(locator, "fetch", exc.reason, url=link)
            return
        try:
            article = self._article_from_result(result, locator)
        except InputError as exc:
            yield Rejection(locator, "read", exc.reason, url=link)
            return
        # The feed's own title and date are cleaner than what is scraped from the page.
        article.title = title or article.title
        article.published = published or article.published
        article.source = source or article.source
        yield article

    def _article_from_result(self, result: FetchResult, locator: str) -> Article:
        if result.content_type == "text/plain":
            text = decode_bytes(result.content, locator)
            published = dateline_date(text)
            return article_from_text(
                text, url=result.final_url, published=published, locator=locator
            )
        html = decode_html(result.content, locator, result.charset)
        return article_from_html(html, url=result.final_url, locator=locator)


def _entry_date(entry: Any, locator: str) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                return datetime(*parsed[:6]).replace(tzinfo=UTC)
            except (TypeError, ValueError):
                continue
    for key in ("published", "updated"):
        if entry.get(key):
            try:
                return parse_date(entry.get(key), locator)
            except InputError:
                continue  # feeds carry odd dates; an entry without one is still an article
    return None


def _lines_after(head: bytes, rest: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of ``head`` followed by the rest of the stream it was read from."""
    *whole, carry = head.split(b"\n")
    for line in whole:
        yield line + b"\n"
    for line in rest:
        if carry:
            line, carry = carry + line, b""
        yield line
    if carry:
        yield carry


def _open(path: Path, compressed: bool) -> Any:
    return gzip.open(path, "rb") if compressed else open(path, "rb")  # noqa: SIM115


def read_file_bytes(path: Path, compressed: bool, limit: int | None = None) -> bytes:
    """The bytes of a file (gunzipped when ``compressed``), at most ``limit`` of them.

    Raises:
        InputError: The file cannot be read, its gzip stream is corrupt, or it is longer
            than ``limit``.
    """
    locator = str(path)
    try:
        with _open(path, compressed) as fh:
            data: bytes = fh.read() if limit is None else fh.read(limit + 1)
    except _GZIP_ERRORS as exc:
        raise InputError(
            locator, f"corrupt or truncated gzip file ({exc}); re-create or re-download it"
        ) from None
    except OSError as exc:
        raise InputError(locator, f"cannot read the file: {exc.strerror or exc}") from None
    if limit is not None and len(data) > limit:
        raise InputError(
            locator,
            f"file too large: more than {limit:,} bytes, the cap on a file read whole "
            "(fetch_max_bytes, as for fetched pages); raise fetch_max_bytes to read it",
        )
    return data


def _jsonl_line(raw: bytes, locator: str) -> Article | Rejection:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            line = decode_bytes(raw, locator)
        except InputError as exc:
            return Rejection(locator, "read", exc.reason)
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return Rejection(locator, "read", f"invalid JSON: {exc.msg} at column {exc.colno}")
    return _record_or_rejection(value, locator)


def _record_or_rejection(value: Any, locator: str) -> Article | Rejection:
    url = value.get("url") if isinstance(value, dict) else None
    try:
        return record_to_article(value, locator)
    except InputError as exc:
        return Rejection(exc.source, "read", exc.reason, url=url if isinstance(url, str) else None)


def record_to_article(record: Any, locator: str) -> Article:
    """An article from one record ``{url, title, text | html, published, source}``.

    Args:
        record: The decoded JSON value.
        locator: Where the record was read, for the article and error messages.

    Returns:
        The article; from ``text`` when present, else from ``html`` (whose own title, date
        and site name fill the fields the record leaves out).

    Raises:
        InputError: Not an object, a field of the wrong type, an unreadable date, or neither
            ``text`` nor ``html``.
    """
    if not isinstance(record, dict):
        raise InputError(
            locator,
            f"a record must be a JSON object with {', '.join(RECORD_FIELDS)}, "
            f"not a {type(record).__name__}",
        )
    for key in ("url", "title", "text", "html", "source"):
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            raise InputError(locator, f"field {key!r} must be a string, not {type(value).__name__}")
    published = parse_date(record.get("published"), locator)
    url, title, source = record.get("url"), record.get("title"), record.get("source")
    if record.get("text") is not None:
        return article_from_text(
            record["text"], url=url, published=published, title=title, source=source,
            locator=locator,
        )  # fmt: skip
    if record.get("html") is not None:
        article = article_from_html(
            record["html"], url=url, locator=locator, source=source, published=published
        )
        article.title = _clean(title) or article.title
        return article
    raise InputError(
        locator,
        "record has no 'text' field (nor 'html'): every record needs the article as 'text' "
        "or 'html'",
    )


def _clean(title: str | None) -> str | None:
    return " ".join(title.split()) if title else None
