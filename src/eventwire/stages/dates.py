"""Stage ``dates.relative.v1``: event dates from the sentence, relative to publication.

A sentence without a date phrase takes the date of the nearest earlier sentence that has
one ("On 3 May, gunmen attacked a village. Two people were killed."), else the
publication day.
"""

from __future__ import annotations

import bisect
from datetime import date

from ..eventdates import own_date
from ..model import Document
from ..pipeline import Context, stage
from .events import sentence_units


@stage("dates.relative.v1", needs=("doc", "events"), adds=("dates",))
def dates(document: Document, context: Context) -> None:
    """Set ``event_date`` and ``date_precision`` of every event from its sentence."""
    published = document.article.published
    if published is None:
        for event in document.events:
            event.event_date, event.date_precision = None, None
        return
    if not document.events:
        return
    carried: tuple[date, str] = (published.date(), "day")
    by_start: dict[int, tuple[date, str]] = {}
    units = sentence_units(document.doc)
    starts_of_units = [u.start for u in units]
    ents_of: list[list[object]] = [[] for _ in units]
    for ent in document.doc.ents:
        if ent.label_ in ("DATE", "TIME"):
            idx = bisect.bisect_right(starts_of_units, ent.start) - 1
            if idx >= 0 and ent.end <= units[idx].end:
                ents_of[idx].append(ent)
    last_event = max(e.start for e in document.events)
    for unit, ents in zip(units, ents_of, strict=True):
        if unit.start_char > last_event:
            break
        found = own_date(unit, published, ents)
        if found is not None:
            carried = found
        by_start[unit.start_char] = carried
    starts = sorted(by_start)
    for event in document.events:
        key = max((s for s in starts if s <= event.start), default=None)
        event.event_date, event.date_precision = (
            by_start[key] if key is not None else (published.date(), "day")
        )
