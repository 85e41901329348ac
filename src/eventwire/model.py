"""The records eventwire reads and writes: articles, toponyms, actor mentions and events."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from typing import Any

#: Keys of :meth:`Event.to_dict` and of the json/jsonl/csv exports, in order.
EVENT_KEYS: tuple[str, ...] = (
    "event_id", "article_id", "url", "event_type", "mode", "modality",
    "actor1", "actor1_text", "actor1_country", "actor1_kind",
    "actor2", "actor2_text", "actor2_country", "actor2_kind",
    "place", "place_text", "latitude", "longitude", "admin1", "admin2", "country",
    "geo_precision", "event_date", "date_precision", "published", "fatalities",
    "sentence", "start", "end", "confidence",
    "acled_event_type", "acled_sub_event_type", "cameo_root", "pipeline_version",
)  # fmt: skip

#: Keys of cluster exports (``--clusters``): the canonical record, then how it was reported.
CLUSTER_KEYS: tuple[str, ...] = (*EVENT_KEYS, "cluster_id", "report_count", "source")

#: Evidence kept with every event besides :data:`EVENT_KEYS` (offsets index the article text).
EVIDENCE_KEYS: tuple[str, ...] = (
    "source", "trigger", "trigger_start", "trigger_end",
    "actor1_start", "actor1_end", "actor2_start", "actor2_end",
    "place_start", "place_end", "place_id", "place_pcode",
    "cluster_id", "report_count",
)  # fmt: skip

GEO_PRECISIONS = ("exact place", "near place", "admin2", "admin1", "country")
MODALITIES = ("reported", "ongoing", "planned", "threatened", "hypothetical", "negated")
DATE_PRECISIONS = ("day", "week", "month")

#: Whitespace runs other than one plain space (which needs no change: see htmltext._HSPACE).
_SPACE = re.compile(r"[^\S ]\s*| \s+")


def normalise_text(text: str) -> str:
    """Normalise article text for hashing: NFC, collapsed whitespace, trimmed, case-folded."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip().casefold()


def article_id_for(text: str) -> str:
    """Content hash that identifies an article: the same text gives the same id."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()[:20]


@dataclass(slots=True)
class Article:
    """One news article as text, with what is known about where it came from.

    Attributes:
        text: Plain article text; every offset eventwire reports indexes this string.
        title: Headline, if known.
        url: Where it was published or fetched from.
        source: Outlet or feed name.
        published: Publication time; event dates are resolved relative to it.
        locator: Where eventwire read it (path, path:line, URL), for messages and rejections.
    """

    text: str
    title: str | None = None
    url: str | None = None
    source: str | None = None
    published: datetime | None = None
    locator: str | None = None

    @property
    def article_id(self) -> str:
        """Hash of the normalised text."""
        return article_id_for(self.text)


@dataclass(slots=True)
class Rejection:
    """An input that produced no article, or an article a stage could not process."""

    locator: str
    stage: str
    reason: str
    article_id: str | None = None
    url: str | None = None


@dataclass(slots=True)
class Toponym:
    """A place name found in text and, when resolved, where it is.

    Offsets index the text that was geoparsed.
    """

    text: str
    start: int
    end: int
    name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    country: str | None = None  # ISO 3166 alpha-3
    admin1: str | None = None
    admin2: str | None = None
    geonames_id: int | None = None
    feature_code: str | None = None
    geo_precision: str | None = None
    confidence: float = 0.0
    pcode: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field."""
        return asdict(self)


@dataclass(slots=True)
class ActorMention:
    """A resolved mention of an actor in the text.

    Attributes:
        text: Surface text as written.
        start: Character offset of the mention in the article text.
        end: End offset (exclusive).
        name: Canonical name from the alias table, or the cleaned surface text when unknown.
        country: ISO 3166 alpha-3 of the actor, when it has one.
        kind: Actor kind (state military, government, rebels, militia, civilians, ...).
        known: Whether the alias table knew it.
    """

    text: str
    start: int
    end: int
    name: str
    country: str | None = None
    kind: str | None = None
    known: bool = True


@dataclass(slots=True)
class Event:
    """One event: who did what to whom, where and when, with the sentence it came from.

    Offsets (``start``/``end`` for the sentence and the ``*_start``/``*_end`` evidence)
    index the article text.
    """

    event_type: str
    sentence: str
    start: int
    end: int
    event_id: str | None = None
    article_id: str | None = None
    url: str | None = None
    mode: str | None = None
    modality: str = "reported"
    actor1: str | None = None
    actor1_text: str | None = None
    actor1_country: str | None = None
    actor1_kind: str | None = None
    actor2: str | None = None
    actor2_text: str | None = None
    actor2_country: str | None = None
    actor2_kind: str | None = None
    place: str | None = None
    place_text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    admin1: str | None = None
    admin2: str | None = None
    country: str | None = None
    geo_precision: str | None = None
    event_date: date | None = None
    date_precision: str | None = None
    published: datetime | None = None
    fatalities: int | None = None
    confidence: float = 0.0
    acled_event_type: str | None = None
    acled_sub_event_type: str | None = None
    cameo_root: str | None = None
    pipeline_version: str | None = None
    # evidence
    source: str | None = None
    trigger: str | None = None
    trigger_start: int | None = None
    trigger_end: int | None = None
    actor1_start: int | None = None
    actor1_end: int | None = None
    actor2_start: int | None = None
    actor2_end: int | None = None
    place_start: int | None = None
    place_end: int | None = None
    place_id: int | None = None
    place_pcode: str | None = None
    cluster_id: str | None = None
    report_count: int | None = None

    def to_dict(self, keys: Sequence[str] = EVENT_KEYS) -> dict[str, Any]:
        """The event as JSON-ready values under ``keys`` (default :data:`EVENT_KEYS`; dates
        as ISO 8601)."""
        return {key: _jsonable(getattr(self, key)) for key in keys}

    def to_record(self) -> dict[str, Any]:
        """Every field, evidence included, as Python values (used by the store)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def set_actor(self, role: int, mention: ActorMention | None) -> None:
        """Fill actor1 (role 1) or actor2 (role 2) from a mention; None clears it."""
        prefix = f"actor{role}"
        for suffix, value in (
            ("", mention.name if mention else None),
            ("_text", mention.text if mention else None),
            ("_country", mention.country if mention else None),
            ("_kind", mention.kind if mention else None),
            ("_start", mention.start if mention else None),
            ("_end", mention.end if mention else None),
        ):
            setattr(self, prefix + suffix, value)

    def set_place(self, toponym: Toponym | None, *, precision: str | None = None) -> None:
        """Fill the place fields from a resolved toponym; None clears them."""
        t = toponym
        self.place = t.name if t else None
        self.place_text = t.text if t else None
        self.latitude = t.latitude if t else None
        self.longitude = t.longitude if t else None
        self.admin1 = t.admin1 if t else None
        self.admin2 = t.admin2 if t else None
        self.country = t.country if t else None
        self.geo_precision = (precision or t.geo_precision) if t else None
        self.place_start = t.start if t else None
        self.place_end = t.end if t else None
        self.place_id = t.geonames_id if t else None
        self.place_pcode = t.pcode if t else None


EVENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Event))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


@dataclass(slots=True)
class Document:
    """An article on its way through the stages; each stage fills the attributes it adds.

    The names a stage may declare in ``needs``/``adds`` are the attribute names below.
    """

    article: Article
    doc: Any = None  # spacy.tokens.Doc
    toponyms: list[Toponym] = field(default_factory=list)
    actors: list[ActorMention] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The article text."""
        return self.article.text
