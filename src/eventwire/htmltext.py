"""From bytes, HTML pages and raw text to :class:`~eventwire.model.Article`.

The article text built here is what every later offset indexes, so it is normalised once:
``\\n`` line ends, no NUL or other control characters, one blank line between paragraphs.
Main text, title and date of HTML pages come from trafilatura (htmldate for the date), run
on the given markup only: nothing here ever touches the network.
"""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime

from lxml import etree
from lxml import html as lxml_html

from .errors import InputError
from .model import Article

__all__ = [
    "article_from_html",
    "article_from_text",
    "clean_text",
    "decode_bytes",
    "decode_html",
    "fragment_to_text",
    "looks_like_html",
]

_HTML_TAG = re.compile(
    r"<\s*(?:!doctype\s+html|html|head|body|article|main|section|div|p|span|br|h[1-6]"
    r"|table|ul|ol|li|meta|title|script|style|a\s)[\s/>]",
    re.IGNORECASE,
)
#: C0 control characters (and DEL) other than tab and newline: they break offsets and display.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
#: Runs of horizontal space that are not already one plain space. A single space is left
#: alone: matching every space makes re.sub build one piece per word (10x the memory of
#: the text, minutes on a 50 MB file).
_HSPACE = re.compile(
    r"[\t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000][ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]*"
    r"| [ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+"
)
_BLANK_LINES = re.compile(r"\n\s*\n+")

# Byte-order marks, longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: File signatures of common binary formats a user might pass by mistake.
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"PK\x03\x04", "ZIP archive or Office document"),
    (b"\x1f\x8b", "gzip data; name the file *.gz"),
    (b"%PDF-", "PDF document"),
    (b"\x7fELF", "executable"),
    (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ\x00", "xz data"),
)
#: Largest share of bytes >= 0x80 for which undecodable-as-UTF-8 text is taken as cp1252.
#: English and Western European news in a legacy encoding is mostly ASCII with a few accented
#: letters and curly quotes; charset_normalizer tends to call such short texts cp1250 or
#: mac_roman. Cyrillic, Greek or Arabic code pages give mostly high bytes and go to it instead.
_WESTERN_HIGH_SHARE = 0.3
#: Places a page states its publication timestamp: meta tags, <time datetime>, JSON-LD.
_TIMESTAMP = re.compile(
    r"""(?:(?:published_time|datePublished|pubdate|publish-date|date)["']?\s+content"""
    r"""|<time[^>]*\sdatetime|"datePublished"\s*:)\s*=?\s*["']"""
    r"""(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}[^"']*)["']""",
    re.IGNORECASE,
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)

#: Elements of trafilatura's XML output that start a paragraph of their own.
_BLOCKS = frozenset({"p", "head", "quote", "list", "table", "code", "div", "item", "row"})
#: Page chrome left out when the whole visible text of a short page is used.
_CHROME = (
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
    "iframe", "svg", "button", "select", "head",
)  # fmt: skip
#: HTML elements that break a paragraph in a feed entry fragment.
_HTML_BLOCKS = frozenset(
    {
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "li", "ul", "ol",
        "table", "tr", "section", "article", "header", "footer", "pre", "figure",
        "figcaption", "dd", "dt", "dl", "hr", "aside", "main",
    }
)  # fmt: skip

#: Deepest element nesting kept as it is. libxml2 (under lxml and trafilatura) stops
#: building the tree at 256 levels and silently drops whatever lies deeper.
_MAX_NESTING = 200
#: One markup token: a comment, a whole script/style element (its content is not markup), or
#: a tag with its closing slash, name and self-closing slash.
_MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)|<(script|style)\b.*?(?:</\1\s*>|\Z)"
    r"|<(/?)([a-zA-Z][a-zA-Z0-9:-]*)[^>]*?(/?)>",
    re.DOTALL | re.IGNORECASE,
)
#: Elements that never hold children.
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr"}
)  # fmt: skip
#: Elements kept when a too-deep page is flattened: none of them can nest in parsed HTML
#: (the parser closes an open ``p``, heading, ``li`` or ``a`` when the next one starts).
_FLAT_KEEP = frozenset(
    {"html", "head", "body", "title", "meta", "link", "script", "style", "noscript",
     "template", "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "a", "time", "br"}
)  # fmt: skip


def looks_like_html(s: str) -> bool:
    """Whether ``s`` is HTML markup rather than plain text.

    Args:
        s: The input string.

    Returns:
        True when the start of the string holds a doctype or a common HTML tag.
    """
    return _HTML_TAG.search(s[:5000]) is not None


def decode_bytes(data: bytes, locator: str) -> str:
    """Decode a text file whose encoding is unknown.

    Tries, in order: a byte-order mark (UTF-8/16/32); UTF-16 without a BOM (recognised by
    NUL bytes in every other position); strict UTF-8; cp1252 for mostly-ASCII text (English
    and Western European legacy files); charset_normalizer's guess (Cyrillic, Greek, Arabic
    code pages...); latin-1. Known binary signatures and control-byte soup are refused first.

    Args:
        data: The raw bytes.
        locator: Path or URL, for the error message.

    Returns:
        The text, without a byte-order mark.

    Raises:
        InputError: The bytes are a binary format (image, archive, PDF...) or hold too many
            control bytes to be text.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise InputError(
                    locator,
                    f"starts with a {encoding} byte-order mark but is not valid {encoding} "
                    f"({exc.reason} at byte {exc.start}); re-save the file as UTF-8",
                ) from None
    for magic, kind in _BINARY_MAGIC:
        if data.startswith(magic):
            raise InputError(locator, f"binary file, not text ({kind})")
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    _reject_binary(data, locator)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return _guess_legacy(data)


def decode_html(data: bytes, locator: str, declared: str | None = None) -> str:
    """Decode an HTML page: BOM, then the HTTP charset, then ``<meta charset>``, then guessing.

    Args:
        data: The raw page.
        locator: Path or URL, for the error message.
        declared: Charset from the HTTP Content-Type header, if any.

    Returns:
        The markup as text.

    Raises:
        InputError: The bytes are binary, not a page.
    """
    if any(data.startswith(bom) for bom, _ in _BOMS):
        return decode_bytes(data, locator)
    match = _META_CHARSET.search(data[:4096])
    for name in (declared, match.group(1).decode("ascii") if match else None):
        if not name:
            continue
        try:
            encoding = codecs.lookup(name).name
        except LookupError:
            continue
        if encoding in ("utf-16", "utf-32", "utf-16-le", "utf-16-be"):
            continue  # a page that says so in ASCII cannot be UTF-16; let the sniffing decide
        if encoding in ("latin-1", "iso8859-1", "ascii"):
            encoding = "cp1252"  # what browsers do: the WHATWG encoding standard maps them
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        _reject_binary(data, locator)
        return text
    return decode_bytes(data, locator)


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even_nuls = sample[0 : pairs * 2 : 2].count(0)
    odd_nuls = sample[1 : pairs * 2 : 2].count(0)
    # ASCII-range text in UTF-16 has a NUL in (almost) every high byte and none in the low one.
    candidates = ((odd_nuls, even_nuls, "utf-16-le"), (even_nuls, odd_nuls, "utf-16-be"))
    for nuls, zero_free, encoding in candidates:
        if nuls >= 0.6 * pairs and zero_free <= 0.02 * pairs:
            even = data[: len(data) - len(data) % 2]
            try:
                return even.decode(encoding)
            except UnicodeDecodeError as exc:
                if exc.start < len(even) - 4:
                    return None
                # Only a surrogate pair cut at the very end (a truncated sample or file).
                return even[: exc.start].decode(encoding)
    return None


def _reject_binary(data: bytes, locator: str) -> None:
    sample = data[:8192]
    if not sample:
        return
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13) or b == 127)
    nuls = sample.count(0)
    # Text outside UTF-16 (handled before) holds next to no NULs; random bytes hold 1 in 256.
    if nuls > max(2, len(sample) // 1000) or controls > max(4, len(sample) // 10):
        raise InputError(
            locator,
            f"binary file, not text ({nuls} NUL and {controls} control bytes in the first "
            f"{len(sample)}); pass a text, HTML, JSON, JSONL or feed file",
        )


def _guess_legacy(data: bytes) -> str:
    high = sum(1 for b in data if b >= 0x80)
    letters = sum(1 for b in data if b > 0x20)
    if high <= _WESTERN_HIGH_SHARE * max(letters, 1):
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass  # one of the five bytes cp1252 leaves undefined: not cp1252
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        return str(best)
    # latin-1 maps every byte, so this cannot fail.
    return data.decode("latin-1")


def clean_text(text: str) -> str:
    """Normalise text the way article text is stored.

    ``\\r\\n`` and ``\\r`` become ``\\n``; NUL, other C0 control characters and DEL are removed;
    a leading byte-order mark is dropped; runs of horizontal space collapse to one space,
    lines are trimmed, and paragraphs are separated by exactly one blank line.

    Args:
        text: Raw text.

    Returns:
        The cleaned text, stripped at both ends.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    text = _CONTROL.sub("", text)
    lines = [_HSPACE.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def article_from_text(
    text: str,
    *,
    url: str | None = None,
    published: datetime | None = None,
    title: str | None = None,
    source: str | None = None,
    locator: str | None = None,
) -> Article:
    """An article from plain text.

    The text is cleaned with :func:`clean_text`; offsets of later stages index the cleaned text.

    Args:
        text: The article text.
        url: Where it was published.
        published: Publication time; naive values are taken as UTC.
        title: Headline.
        source: Outlet or feed name.
        locator: Where it was read (path, path:line, URL); defaults to ``url`` or ``<text>``.

    Returns:
        The article.

    Raises:
        InputError: The text is empty or holds only whitespace and control characters.
    """
    where = locator or url or "<text>"
    cleaned = clean_text(text)
    if not cleaned:
        raise InputError(where, "no article text: the input is empty or holds only whitespace")
    return Article(
        text=cleaned,
        title=_clean_title(title),
        url=url,
        source=source,
        published=_aware(published),
        locator=where,
    )


def article_from_html(
    html: str,
    *,
    url: str | None = None,
    locator: str | None = None,
    source: str | None = None,
    published: datetime | None = None,
) -> Article:
    """An article from a whole HTML page: main text, title and date by trafilatura.

    Navigation, headers, footers, scripts and comments are left out. Paragraphs, headings,
    list items and quotes become paragraphs separated by a blank line.

    Args:
        html: The page markup.
        url: Where the page was published (helps trafilatura; never fetched).
        locator: Where it was read; defaults to ``url`` or ``<html>``.
        source: Outlet name; defaults to the site name in the page metadata.
        published: Publication time; when None, the page's own date (htmldate) is used.

    Returns:
        The article.

    Raises:
        InputError: The page holds no article text.
    """
    import trafilatura

    where = locator or url or "<html>"
    html = _shallow(html)
    try:
        extracted = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            date_extraction_params={
                "extensive_search": True,
                "original_date": True,
                "outputformat": "%Y-%m-%dT%H:%M:%S%z",
            },
        )
    except Exception as exc:  # trafilatura/lxml raise a variety of parse errors on junk
        raise InputError(
            where, f"cannot parse the page as HTML ({type(exc).__name__}: {exc})"
        ) from None
    body = getattr(extracted, "body", None) if extracted is not None else None
    text = _xml_body_text(body) if body is not None else ""
    if not text and extracted is not None:
        text = clean_text(getattr(extracted, "text", None) or "")
    if not text:
        # trafilatura discards very short documents (a snippet, a one-paragraph record);
        # their visible text, minus page chrome, is the article.
        text = _visible_text(html)
    if not text:
        raise InputError(
            where,
            "no article text found in the page (only navigation, scripts or markup); "
            "pass the article's own page or its plain text",
        )
    page_date = _refine_time(_parse_page_date(getattr(extracted, "date", None)), html)
    return Article(
        text=text,
        title=_clean_title(getattr(extracted, "title", None)),
        # The page's canonical or og:url address stands in when the caller knows none.
        url=url or _page_url(getattr(extracted, "url", None)),
        source=source or getattr(extracted, "sitename", None) or None,
        published=_aware(published) if published is not None else page_date,
        locator=where,
    )


def fragment_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed entry's content), keeping paragraph breaks.

    Args:
        fragment: HTML markup, or plain text.

    Returns:
        Cleaned text (see :func:`clean_text`); empty when the fragment holds no text.
    """
    if not looks_like_html(fragment):
        return clean_text(fragment)
    try:
        root = lxml_html.fragment_fromstring(_shallow(fragment), create_parent="div")
    except (etree.ParserError, ValueError):
        return clean_text(fragment)
    parts: list[str] = []
    _walk_html(root, parts)
    return clean_text("".join(parts))


def _visible_text(html: str) -> str:
    try:
        # Control characters parse, but lxml refuses them when drop_tree merges text nodes.
        root = lxml_html.document_fromstring(_CONTROL.sub("", html))
    except (etree.ParserError, ValueError):
        return ""
    for element in list(root.iter(*_CHROME)):
        if element.getparent() is not None:
            element.drop_tree()
    body = root.find("body")
    parts: list[str] = []
    _walk_html(body if body is not None else root, parts)
    return clean_text("".join(parts))


def _nesting_depth(html: str) -> int:
    """The deepest element nesting in ``html`` (implicitly closed elements count as open,
    which can only overstate it)."""
    depth = deepest = 0
    for m in _MARKUP.finditer(html):
        name = m.group(3)
        if not name or m.group(4) or name.lower() in _VOID:
            continue
        if m.group(2):
            depth = max(depth - 1, 0)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def _flatten(html: str) -> str:
    """``html`` without the tags that make it too deep for the parser.

    Wrapper elements (``div``, ``span``, ``section``, tables, lists...) are removed; a block
    wrapper leaves a line break so paragraphs stay apart. What remains cannot nest, so the
    whole text survives parsing.
    """

    def replace(m: re.Match[str]) -> str:
        name = m.group(3)
        if not name or name.lower() in _FLAT_KEEP:
            return m.group(0)
        return "<br>" if name.lower() in _HTML_BLOCKS else ""

    return _MARKUP.sub(replace, html)


def _shallow(html: str) -> str:
    """``html`` itself when the parser can take its depth, else :func:`_flatten` of it."""
    return _flatten(html) if _nesting_depth(html) > _MAX_NESTING else html


def _walk_html(element: etree._Element, parts: list[str]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in ("script", "style", "noscript", "template") or not isinstance(element.tag, str):
        if element.tail:
            parts.append(element.tail)
        return
    if tag in _HTML_BLOCKS:
        parts.append("\n\n")
    elif tag == "br":
        parts.append("\n")
    if element.text:
        parts.append(element.text)
    for child in element:
        _walk_html(child, parts)
    if tag in _HTML_BLOCKS:
        parts.append("\n\n")
    elif tag in ("td", "th"):
        parts.append(" ")
    if element.tail:
        parts.append(element.tail)


def _xml_body_text(body: etree._Element) -> str:
    paragraphs: list[str] = []
    _collect_blocks(body, paragraphs)
    return clean_text("\n\n".join(p for p in paragraphs if p))


def _collect_blocks(element: etree._Element, out: list[str]) -> None:
    # Loose text directly under a container is a paragraph of its own.
    if element.text and element.text.strip():
        out.append(element.text)
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "list":
            out.append("\n".join(_inline_text(item) for item in child.iter("item")))
        elif tag == "table":
            rows = (
                " | ".join(_inline_text(cell) for cell in row.iter("cell"))
                for row in child.iter("row")
            )
            out.append("\n".join(rows))
        elif tag in _BLOCKS and any(isinstance(c.tag, str) and c.tag in _BLOCKS for c in child):
            _collect_blocks(child, out)
        elif tag:
            out.append(_inline_text(child))
        if child.tail and child.tail.strip():
            out.append(child.tail)


def _inline_text(element: etree._Element) -> str:
    parts: list[str] = []

    def walk(el: etree._Element) -> None:
        if el.tag == "lb":
            parts.append("\n")
        elif el.text:
            parts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return "".join(parts)


def _clean_title(title: str | None) -> str | None:
    if not title:
        return None
    cleaned = _HSPACE.sub(" ", _CONTROL.sub("", title.replace("\n", " "))).strip()
    return cleaned or None


def _parse_page_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return _aware(datetime.fromisoformat(value))
    except ValueError:
        return None


def _page_url(value: str | None) -> str | None:
    if value and re.match(r"^https?://[^\s/]+", value, re.IGNORECASE):
        return value
    return None


def _refine_time(day: datetime | None, html: str) -> datetime | None:
    # htmldate prefers a date in the canonical URL, which has no time of day; a page usually
    # states the full timestamp of that same day in a meta tag, <time> or JSON-LD.
    if day is None or day.time() != datetime.min.time():
        return day
    for match in _TIMESTAMP.finditer(html[:200_000]):
        try:
            stamp = datetime.fromisoformat(match.group(1).strip().replace("Z", "+00:00"))
        except ValueError:
            continue
        if stamp.date() == day.date() and stamp.time() != datetime.min.time():
            return _aware(stamp)
    return day


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
