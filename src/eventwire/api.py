"""The Python entry points: :func:`extract`, :func:`geoparse` and :func:`open`."""

from __future__ import annotations

import os
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from .config import Options, resolve_options
from .dates import parse_published
from .model import Event, Toponym
from .pipeline import Pipeline

if TYPE_CHECKING:
    from .store import Store


@lru_cache(maxsize=4)
def pipeline_for(options: Options) -> Pipeline:
    """The default pipeline for ``options``, built once per process."""
    return Pipeline(options)


def extract(
    text_or_html: str,
    *,
    published: str | date | datetime | None = None,
    url: str | None = None,
    options: Options | None = None,
) -> list[Event]:
    """Events reported in one article, without touching any database.

    Args:
        text_or_html: Article text, or a whole HTML page (its main text is extracted).
        published: Publication date (ISO string, date or datetime); relative dates such as
            "yesterday" resolve against it. For HTML, the page's own date is used when omitted.
        url: Where the article came from, kept on every event.
        options: Resolved options; defaults from :func:`eventwire.config.resolve_options`.

    Returns:
        The events, in text order.

    Raises:
        InputError: The input holds no article text.
        StageError: A stage failed on this article.
    """
    from .htmltext import article_from_html, article_from_text, looks_like_html

    opts = options or resolve_options()
    when = parse_published(published) if published is not None else None
    if looks_like_html(text_or_html):
        article = article_from_html(text_or_html, url=url, locator=url or "<html>")
        if when is not None:
            article.published = when
    else:
        article = article_from_text(text_or_html, url=url, published=when, locator=url or "<text>")
    return pipeline_for(opts).run(article)


def geoparse(
    text: str, *, country_hint: str | None = None, options: Options | None = None
) -> list[Toponym]:
    """Place names in ``text``, each resolved against the gazetteer where possible.

    Args:
        text: Plain text.
        country_hint: ISO alpha-2 or alpha-3 code of the country the text is most likely about.
        options: Resolved options.

    Returns:
        Toponyms in text order; an empty list for empty text.
    """
    from .geoparsing import find_toponyms

    if not text.strip():
        return []
    opts = options or resolve_options()
    context = pipeline_for(opts).context
    return find_toponyms(context.nlp(text), context.gazetteer, country_hint=country_hint)


def open(db_path: str | os.PathLike[str] | None = None, *, options: Options | None = None) -> Store:  # noqa: A001
    """Open (creating or migrating) an event store.

    Args:
        db_path: DuckDB file; defaults to ``options.db`` (``./eventwire.duckdb``).
        options: Resolved options.

    Returns:
        The store; use it as a context manager or call ``close()``.
    """
    from .store import Store

    opts = options or resolve_options()
    return Store(db_path if db_path is not None else opts.db, options=opts)
