"""Stages and the runner that chains them.

A stage is a named, versioned function ``fn(document, context) -> None`` that fills
attributes of :class:`~eventwire.model.Document`. It declares what it ``needs`` and what it
``adds``; :class:`Pipeline` checks the chain once, before the first document. Built-in stages
register themselves exactly the way a third-party stage would::

    @stage("geocode.mine.v1", needs=("doc",), adds=("toponyms",))
    def my_geocoder(document, context): ...
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from .config import Options
from .errors import EventwireError, PipelineError, StageError
from .model import Article, Document, Event

StageFn = Callable[[Document, "Context"], None]

#: What a document holds before any stage has run.
INITIAL = frozenset({"article", "text", "published"})


@dataclass(frozen=True)
class Stage:
    """A registered stage.

    Attributes:
        name: Versioned name (``family.impl.vN``); changing output means a new version.
        fn: The function ``fn(document, context)``.
        needs: Document attributes that must be present before it runs.
        adds: Document attributes it fills.
        components: spaCy components it relies on (only these are loaded).
    """

    name: str
    fn: StageFn
    needs: frozenset[str]
    adds: frozenset[str]
    components: frozenset[str] = frozenset()


class Runner(Protocol):
    """What :meth:`Store.ingest <eventwire.store.Store.ingest>` runs articles through: a
    :class:`Pipeline` in this process, or a :class:`~eventwire.parallel.ProcessPipeline`."""

    @property
    def version(self) -> str:
        """The pipeline version stamped on what it produces."""
        ...

    def run_many(
        self, articles: Iterable[Article]
    ) -> Iterable[tuple[Article, list[Event] | StageError]]:
        """Each article with its events or the error that stopped it (any order)."""
        ...


REGISTRY: dict[str, Stage] = {}

#: The article :meth:`Pipeline.warm_up` runs: a place, an actor, an event and a date, so every
#: stage of the default chain loads what it needs.
WARM_UP = "Rebels attacked an army post near Idlib, Syria, on Monday; Turkey condemned it."

#: The default chain, by name, in order.
#: The language check comes first: an article in another language is rejected before the
#: costly parse, not after.
DEFAULT_STAGES: tuple[str, ...] = (
    "language.detect.v1",
    "parse.spacy.v1",
    "toponyms.gazetteer.v1",
    "actors.aliases.v1",
    "events.lexicon.v1",
    "locate.clause.v1",
    "dates.relative.v1",
    "finalize.v1",
)


def stage(
    name: str,
    *,
    needs: Iterable[str] = (),
    adds: Iterable[str] = (),
    components: Iterable[str] = (),
) -> Callable[[StageFn], StageFn]:
    """Register ``fn`` as a stage under ``name`` (decorator)."""

    def register(fn: StageFn) -> StageFn:
        if name in REGISTRY and REGISTRY[name].fn is not fn:
            raise PipelineError(f"stage {name!r} is registered twice")
        REGISTRY[name] = Stage(name, fn, frozenset(needs), frozenset(adds), frozenset(components))
        return fn

    return register


def _load_builtin_stages() -> None:
    # Imported for their registration side effect, like any plugin module.
    from .stages import (  # noqa: F401
        actors,
        dates,
        events,
        finalize,
        hybrid,
        language,
        locate,
        parse,
        toponyms,
    )


class Context:
    """Shared resources for stages, each loaded once, on first use."""

    def __init__(self, options: Options, components: frozenset[str]) -> None:
        self.options = options
        self.components = components
        self.pipeline_version = ""

    @cached_property
    def nlp(self) -> Any:
        """The spaCy pipeline, with only the components the stages need."""
        from . import nlp

        model = nlp.load(self.components, self.options.model)
        model.max_length = max(model.max_length, self.options.max_text_chars + 1)
        return model

    @cached_property
    def gazetteer(self) -> Any:
        """The gazetteer index (built from packaged data on first use)."""
        from .gazetteer import Gazetteer

        return Gazetteer.open(self.options.gazetteer)

    @cached_property
    def aliases(self) -> Any:
        """The actor alias table."""
        from .actors import AliasTable

        return AliasTable.load()


@dataclass
class Pipeline:
    """A checked chain of stages.

    Args:
        options: Resolved options.
        stages: Stage names in order; defaults to :data:`DEFAULT_STAGES`.

    Raises:
        PipelineError: Unknown stage, or a stage needing what no earlier stage adds.
    """

    options: Options
    stages: Sequence[str] = DEFAULT_STAGES
    chain: list[Stage] = field(init=False)
    context: Context = field(init=False)

    def __post_init__(self) -> None:
        _load_builtin_stages()
        chain: list[Stage] = []
        available = set(INITIAL)
        for name in self.stages:
            if name not in REGISTRY:
                known = ", ".join(sorted(REGISTRY))
                raise PipelineError(f"unknown stage {name!r}; registered stages: {known}")
            st = REGISTRY[name]
            missing = st.needs - available
            if missing:
                raise PipelineError(
                    f"stage {name!r} needs {', '.join(sorted(missing))}, "
                    "which no earlier stage adds; reorder the stages or add one that does"
                )
            available |= st.adds
            chain.append(st)
        self.chain = chain
        components = frozenset().union(*(s.components for s in chain)) if chain else frozenset()
        self.context = Context(self.options, components)
        self.context.pipeline_version = self.version

    @property
    def version(self) -> str:
        """Pipeline version: package version plus a short hash of the stage names."""
        from . import __version__

        digest = hashlib.sha1("|".join(s.name for s in self.chain).encode()).hexdigest()[:8]
        return f"{__version__}+{digest}"

    def describe(self) -> list[dict[str, Any]]:
        """The chain as plain data (name, needs, adds), for ``eventwire stages``."""
        return [
            {"name": s.name, "needs": sorted(s.needs), "adds": sorted(s.adds)} for s in self.chain
        ]

    def warm_up(self) -> None:
        """Load everything the stages load lazily (the model, the gazetteer, the alias table,
        the lexicons) by running one small article; its result is dropped.

        A stage that fails on it fails on real articles the same way, where it is recorded as
        a rejection: nothing is raised here. Call it before :func:`eventwire.memory.freeze_loaded`.
        """
        for _ in self.run_many([Article(WARM_UP)]):
            pass

    def run(self, article: Article) -> list[Event]:
        """Run every stage over one article.

        Raises:
            StageError: The stage that failed and why; nothing partial is returned.
        """
        return self._run_prepared(article, None)

    def run_many(
        self, articles: Iterable[Article]
    ) -> Iterable[tuple[Article, list[Event] | StageError]]:
        """Run the chain over many articles, parsing them in batches with ``nlp.pipe``.

        Yields each article with its events, or with the :class:`StageError` that stopped it.
        """
        batch: list[Article] = []
        for article in articles:
            batch.append(article)
            if len(batch) >= self.options.batch_size:
                yield from self._run_batch(batch)
                batch = []
        if batch:
            yield from self._run_batch(batch)

    def _run_batch(
        self, batch: list[Article]
    ) -> Iterable[tuple[Article, list[Event] | StageError]]:
        # The stages before the spaCy parse run article by article; the articles they let
        # through are parsed together with nlp.pipe; the rest of the chain runs on each.
        split = next(
            (i for i, st in enumerate(self.chain) if st.name.startswith("parse.spacy")), None
        )
        if split is None:
            for article in batch:
                try:
                    yield article, self._run_prepared(article, None)
                except StageError as exc:
                    yield article, exc
            return
        documents: list[Document | StageError] = []
        for article in batch:
            document = Document(article)
            try:
                self._run_stages(document, self.chain[:split])
                documents.append(document)
            except StageError as exc:
                # Kept without its traceback: its frames hold ``documents`` (a reference cycle
                # that only a full garbage collection would free, with the whole batch).
                documents.append(exc.with_traceback(None))
        cap = self.options.max_text_chars
        to_parse = [d for d in documents if isinstance(d, Document) and len(d.text) <= cap]
        try:
            for document, doc in zip(
                to_parse, self.context.nlp.pipe(d.text for d in to_parse), strict=True
            ):
                document.doc = doc
        except Exception:  # fall back to one at a time so one bad text fails alone
            for document in to_parse:
                document.doc = None
        for article, prepared in zip(batch, documents, strict=True):
            if isinstance(prepared, StageError):
                yield article, prepared
                continue
            try:
                self._run_stages(prepared, self.chain[split:])
                yield article, prepared.events
            except StageError as exc:
                yield article, exc

    def _run_prepared(self, article: Article, doc: Any) -> list[Event]:
        document = Document(article, doc=doc)
        self._run_stages(document, self.chain)
        return document.events

    def _run_stages(self, document: Document, stages: Sequence[Stage]) -> None:
        for st in stages:
            try:
                st.fn(document, self.context)
            except StageError:
                raise
            except EventwireError as exc:
                raise StageError(st.name, str(exc)) from exc
            except Exception as exc:  # a bug or bad data in one document must not stop a batch
                raise StageError(st.name, f"{type(exc).__name__}: {exc}") from exc
