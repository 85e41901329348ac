"""Stage ``locate.clause.v1``: where each event happened."""

from __future__ import annotations

from ..eventplace import event_place
from ..geoparsing import article_focus
from ..model import Document
from ..pipeline import Context, stage


@stage(
    "locate.clause.v1",
    needs=("doc", "events", "toponyms", "actors"),
    adds=("places",),
)
def locate(document: Document, context: Context) -> None:
    """Give each event the place attached to its clause, else the sentence's, else the focus.

    Precision falls back honestly: "near place" for relative expressions, "admin1" or
    "country" when only the article's focus region or country is known.
    """
    if not document.events:
        return
    gazetteer = context.gazetteer
    focus = article_focus(document.toponyms, gazetteer)
    actor_spans = [(a.start, a.end) for a in document.actors]
    for event in document.events:
        spans = list(actor_spans)
        for role in (1, 2):
            s, e = getattr(event, f"actor{role}_start"), getattr(event, f"actor{role}_end")
            if s is not None and e is not None:
                spans.append((s, e))
        place, precision = event_place(
            document.doc, event, document.toponyms, gazetteer, actor_spans=spans, focus=focus
        )
        event.set_place(place, precision=precision)
