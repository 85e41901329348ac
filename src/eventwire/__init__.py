"""eventwire: news articles in, geocoded event records out.

Who did what to whom, where and when, with the sentence it came from::

    import eventwire
    for event in eventwire.extract(open("article.txt").read(), published="2020-12-10"):
        print(event.event_type, event.actor1, event.place, event.event_date)
"""

from __future__ import annotations

__version__ = "0.1.0"

from .api import extract, geoparse, open  # noqa: E402  (needs __version__)
from .errors import (  # noqa: E402
    EventwireError,
    FetchError,
    GazetteerError,
    InputError,
    ModelNotFoundError,
    OptionsError,
    PipelineError,
    StageError,
    StoreError,
)
from .model import EVENT_KEYS, Article, Event, Rejection, Toponym  # noqa: E402

__all__ = [
    "EVENT_KEYS",
    "Article",
    "Event",
    "EventwireError",
    "FetchError",
    "GazetteerError",
    "InputError",
    "ModelNotFoundError",
    "OptionsError",
    "PipelineError",
    "Rejection",
    "StageError",
    "StoreError",
    "Toponym",
    "__version__",
    "extract",
    "geoparse",
    "open",
]
