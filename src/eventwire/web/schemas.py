"""Response shapes of the REST API, for the OpenAPI document only.

Routes serialise plain dicts themselves (10,000 rows through pydantic would cost more than the
query); these models describe what they send. The event models are derived from
:class:`~eventwire.model.Event`, so a new field appears here without an edit.
"""

from __future__ import annotations

import typing
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, create_model

from ..model import CLUSTER_KEYS, EVENT_FIELDS, EVENT_KEYS, Event


def _field_type(annotation: Any) -> Any:
    # Dates travel as ISO 8601 strings; every field may be null in a partial record.
    if annotation in (date, datetime, date | None, datetime | None):
        return str | None
    return annotation | None


_HINTS = typing.get_type_hints(Event)

EventRecord: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "EventRecord",
    __doc__="An event as listed (the export keys; ask for others with `fields`).",
    **{name: (_field_type(_HINTS[name]), None) for name in EVENT_KEYS},
)
EventDetail: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "EventDetail",
    __doc__="An event with every stored field, evidence offsets included.",
    **{name: (_field_type(_HINTS[name]), None) for name in EVENT_FIELDS},
)

ClusterRecord: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "ClusterRecord",
    __doc__="A merged event: the canonical record of reports of one real event (the cluster "
    "export keys; `source` lists every outlet; also `sources`, `urls` and `event_ids` with "
    "`fields`). `article_id`, `start` and `end` are null: a cluster spans articles.",
    **{name: (_field_type(_HINTS[name]), None) for name in CLUSTER_KEYS},
    sources=(list[str] | None, None),
    urls=(list[str] | None, None),
    event_ids=(list[str] | None, None),
)


class EventsPage(BaseModel):
    """One page of ``/api/events`` (format=json)."""

    events: list[EventRecord]  # type: ignore[valid-type]
    next_cursor: str | None = Field(description="Pass back as `cursor`; null on the last page.")
    count: int


class ClustersPage(BaseModel):
    """One page of ``/api/clusters`` (format=json)."""

    clusters: list[ClusterRecord]  # type: ignore[valid-type]
    next_cursor: str | None = Field(description="Pass back as `cursor`; null on the last page.")
    count: int


class ErrorDetail(BaseModel):
    """What went wrong."""

    status: int
    code: str = Field(description="invalid_parameter, not_found, unauthorized, bad_host, ...")
    message: str
    parameter: str | None = Field(None, description="The offending parameter (422 only).")


class ErrorBody(BaseModel):
    """The one error shape of every route."""

    error: ErrorDetail


class Span(BaseModel):
    """A stretch of the article text; offsets index ``text``."""

    role: str = Field(description="sentence, trigger, actor1, actor2 or place")
    start: int
    end: int


class ArticleEvent(BaseModel):
    """An event of the article with the spans of its evidence."""

    event_id: str
    event_type: str
    modality: str
    spans: list[Span]


class ArticleOut(BaseModel):
    """An article's text with every event's evidence offsets."""

    article_id: str
    url: str | None
    title: str | None
    source: str | None
    published: str | None
    text: str
    events: list[ArticleEvent]


class Stats(BaseModel):
    """Counts of the selected events; lists are ``[value, count]`` pairs, largest first."""

    total: int
    first_date: str | None
    last_date: str | None
    by_day: list[tuple[str, int]]
    by_type: list[tuple[str, int]]
    by_modality: list[tuple[str, int]]
    by_country: list[tuple[str, int]]
    by_actor: list[tuple[str, int]]


class Health(BaseModel):
    """The server answers and the store can be read."""

    status: str = Field(
        description="ok, or stale when the store changed but a writer still "
        "holds it: answers come from the last content read (see problem)"
    )
    events: int
    articles: int
    clusters: int | None = Field(None, description="Merged events (null: store not clustered).")
    data_version: str = Field(
        description="Names the content answers come from; changes when the store does."
    )
    snapshot: str = Field(
        description="ready, or preparing while the sorted, indexed copy of "
        "the content is built (a plain copy answers meanwhile)"
    )
    problem: str | None = None
    version: str
    time: str


def responses(model: type[BaseModel] | None, *errors: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: its 200 model and the error statuses it can answer."""
    out: dict[int | str, dict[str, Any]] = {}
    if model is not None:
        out[200] = {"model": model}
    for status in (*errors, 401):
        out[status] = {"model": ErrorBody}
    return out
