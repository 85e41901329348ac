"""Stage ``locate.clause.v1``: where each event happened."""

from __future__ import annotations

from ..actors import stands_for_holder
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
    # "attacked Tal Abyad, held by the SDF": the place stands for the SDF as the target, and
    # is still where the attack happened
    held = {
        (a.start, a.end)
        for a in document.actors
        if _is_place(a.start, a.end, document) and stands_for_holder(a, context.aliases)
    }
    actor_spans = [(a.start, a.end) for a in document.actors if (a.start, a.end) not in held]
    for event in document.events:
        spans = list(actor_spans)
        for role in (1, 2):
            s, e = getattr(event, f"actor{role}_start"), getattr(event, f"actor{role}_end")
            if s is not None and e is not None and (s, e) not in held:
                spans.append((s, e))
        place, precision = event_place(
            document.doc, event, document.toponyms, gazetteer, actor_spans=spans, focus=focus
        )
        event.set_place(place, precision=precision)


def _is_place(start: int, end: int, document: Document) -> bool:
    """Whether the words ``start:end`` are a toponym or a place noun ("the rebel-held town")."""
    if any(t.start == start and t.end == end for t in document.toponyms):
        return True
    return document.text[start:end].strip().lower() in _PLACE_WORDS


_PLACE_WORDS = frozenset(
    {"town", "city", "village", "district", "area", "neighbourhood", "neighborhood", "suburb",
     "enclave", "camp", "base", "airport"}
)  # fmt: skip
