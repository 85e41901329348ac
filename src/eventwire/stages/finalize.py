"""Stage ``finalize.v1``: stable ids, provenance and the pipeline version on every event."""

from __future__ import annotations

import hashlib

from ..model import Document
from ..pipeline import Context, stage


def event_id_for(
    article_id: str, start: int, end: int, event_type: str, trigger_start: int | None
) -> str:
    """Stable id of an event: article, sentence span, type and trigger position."""
    trigger = "" if trigger_start is None else trigger_start
    key = f"{article_id}|{start}|{end}|{event_type}|{trigger}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


@stage("finalize.v1", needs=("events",), adds=("final",))
def finalize(document: Document, context: Context) -> None:
    """Drop events below ``min_confidence``, then stamp ids, provenance and version."""
    article = document.article
    article_id = article.article_id
    kept = []
    seen: set[str] = set()
    for event in document.events:
        if event.confidence < context.options.min_confidence:
            continue
        event.article_id = article_id
        event.url = event.url or article.url
        event.source = event.source or article.source
        event.published = event.published or article.published
        event.pipeline_version = context.pipeline_version
        event.event_id = event_id_for(
            article_id, event.start, event.end, event.event_type, event.trigger_start
        )
        if event.event_id in seen:  # the same trigger coded twice with one type
            continue
        seen.add(event.event_id)
        kept.append(event)
    document.events = kept
