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
from ..nlp import sentence_unit_bounds
from ..pipeline import Context, stage


@stage("dates.relative.v1", needs=("doc", "events"), adds=("dates",))
def dates(document: Document, context: Context) -> None:
    """Set ``event_date`` and ``date_precision`` of every event from its sentence.

    The sentences are the event coder's units (:func:`~eventwire.stages.events.sentence_units`),
    read as token ranges; only those up to the last event are looked at.
    """
    published = document.article.published
    if published is None:
        for event in document.events:
            event.event_date, event.date_precision = None, None
        return
    if not document.events:
        return
    doc = document.doc
    text = document.text  # what was parsed (doc.text is rebuilt from the tokens on access)
    carried: tuple[date, str] = (published.date(), "day")
    starts_of_units: list[int] = []
    by_start: dict[int, tuple[date, str]] = {}
    bounds = sentence_unit_bounds(doc)
    unit_starts = [start for start, _ in bounds]
    ents_of: list[list[object]] = [[] for _ in bounds]
    for ent in doc.ents:
        if ent.label_ in ("DATE", "TIME"):
            idx = bisect.bisect_right(unit_starts, ent.start) - 1
            if idx >= 0 and ent.end <= bounds[idx][1]:
                ents_of[idx].append(ent)
    last_event = max(e.start for e in document.events)
    for (start, end), ents in zip(bounds, ents_of, strict=True):
        unit = doc[start:end]
        start_char = unit.start_char
        if start_char > last_event:
            break
        found = own_date(unit, published, ents, text[start_char : unit.end_char])
        if found is not None:
            carried = found
        by_start[start_char] = carried
        starts_of_units.append(start_char)
    for event in document.events:
        at = bisect.bisect_right(starts_of_units, event.start) - 1
        event.event_date, event.date_precision = (
            by_start[starts_of_units[at]] if at >= 0 else (published.date(), "day")
        )
