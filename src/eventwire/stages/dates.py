"""Stage ``dates.relative.v1``: event dates from the sentence, relative to publication."""

from __future__ import annotations

from ..eventdates import event_date
from ..model import Document
from ..pipeline import Context, stage


@stage("dates.relative.v1", needs=("doc", "events"), adds=("dates",))
def dates(document: Document, context: Context) -> None:
    """Set ``event_date`` and ``date_precision`` of every event from its sentence."""
    published = document.article.published
    cache: dict[tuple[int, int], tuple[object, object]] = {}
    for event in document.events:
        key = (event.start, event.end)
        if key not in cache:
            span = document.doc.char_span(event.start, event.end, alignment_mode="expand")
            cache[key] = (
                event_date(span, published) if span is not None else (None, None)
            )
        event.event_date, event.date_precision = cache[key]  # type: ignore[assignment]
