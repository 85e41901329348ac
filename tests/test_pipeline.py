"""The stage registry and runner: chain checks, versions, failures recorded per article."""

from __future__ import annotations

from dataclasses import replace

import pytest

from eventwire.config import Options
from eventwire.errors import PipelineError, StageError
from eventwire.model import Article, Document, Event
from eventwire.pipeline import DEFAULT_STAGES, REGISTRY, Context, Pipeline, stage


@stage("test.words.v1", needs=("text",), adds=("events",))
def _one_event_per_word_attack(document: Document, context: Context) -> None:
    text = document.text
    at = text.find("attack")
    while at >= 0:
        document.events.append(Event("ASSAULT", text, 0, len(text), trigger="attack",
                                     trigger_start=at, trigger_end=at + 6, confidence=0.5))
        at = text.find("attack", at + 1)


@stage("test.explode.v1", needs=("events",), adds=())
def _explode_on_marker(document: Document, context: Context) -> None:
    if "EXPLODE" in document.text:
        raise ValueError("boom")


@stage("test.needs-missing.v1", needs=("nothing-adds-this",), adds=())
def _needs_missing(document: Document, context: Context) -> None:
    raise AssertionError("never runs")


def test_default_chain_is_consistent(options: Options) -> None:
    pipeline = Pipeline(options)
    assert [s.name for s in pipeline.chain] == list(DEFAULT_STAGES)
    assert all(name in REGISTRY for name in DEFAULT_STAGES)


def test_unknown_stage_is_refused_with_the_registered_names(options: Options) -> None:
    with pytest.raises(PipelineError, match="unknown stage 'nope.v1'.*parse.spacy.v1"):
        Pipeline(options, stages=("nope.v1",))


def test_chain_is_checked_before_any_document(options: Options) -> None:
    with pytest.raises(PipelineError, match="needs nothing-adds-this"):
        Pipeline(options, stages=("test.words.v1", "test.needs-missing.v1"))
    with pytest.raises(PipelineError, match="needs events"):
        Pipeline(options, stages=("test.explode.v1", "test.words.v1"))


def test_version_depends_on_the_stage_names(options: Options) -> None:
    a = Pipeline(options, stages=("test.words.v1", "finalize.v1"))
    b = Pipeline(options, stages=("test.words.v1", "test.explode.v1", "finalize.v1"))
    assert a.version != b.version
    assert a.version == Pipeline(options, stages=("test.words.v1", "finalize.v1")).version


def test_finalize_stamps_ids_version_and_provenance(options: Options) -> None:
    pipeline = Pipeline(options, stages=("test.words.v1", "finalize.v1"))
    article = Article("They attack at dawn; the attack failed.", url="https://x.example/1")
    events = pipeline.run(article)
    assert len(events) == 2
    assert len({e.event_id for e in events}) == 2
    assert all(e.article_id == article.article_id for e in events)
    assert all(e.pipeline_version == pipeline.version for e in events)
    assert all(e.url == "https://x.example/1" for e in events)
    again = pipeline.run(Article(article.text))
    assert [e.event_id for e in again] == [e.event_id for e in events]


def test_min_confidence_drops_weak_events(options: Options) -> None:
    strict = replace(options, min_confidence=0.9)
    pipeline = Pipeline(strict, stages=("test.words.v1", "finalize.v1"))
    assert pipeline.run(Article("an attack")) == []


def test_a_failing_stage_names_itself_and_the_batch_goes_on(options: Options) -> None:
    pipeline = Pipeline(options, stages=("test.words.v1", "test.explode.v1", "finalize.v1"))
    with pytest.raises(StageError, match=r"stage test.explode.v1: ValueError: boom"):
        pipeline.run(Article("attack EXPLODE"))
    results = list(pipeline.run_many(
        [Article("attack one"), Article("attack EXPLODE"), Article("attack three")]
    ))
    assert [type(r).__name__ for _, r in results] == ["list", "StageError", "list"]
    assert results[1][1].stage == "test.explode.v1"


def test_parse_stage_batches_and_refuses_oversized_text(options: Options) -> None:
    small = replace(options, max_text_chars=50, batch_size=2)
    pipeline = Pipeline(small, stages=("parse.spacy.v1",))
    results = list(pipeline.run_many(
        [Article("Short text one."), Article("x " * 40), Article("Short text three.")]
    ))
    assert isinstance(results[0][1], list) and isinstance(results[2][1], list)
    error = results[1][1]
    assert isinstance(error, StageError) and "max_text_chars" in error.reason


def test_stages_before_the_parse_reject_before_anything_is_parsed(options: Options) -> None:
    """The language check runs first: a French article is rejected without being parsed,
    and the batch keeps its order."""
    pipeline = Pipeline(replace(options, batch_size=3),
                        stages=("language.detect.v1", "parse.spacy.v1"))  # fmt: skip
    nlp = pipeline.context.nlp
    parsed: list[str] = []

    class Spy:  # the real model, counting what reaches it
        def pipe(self, texts: object) -> object:
            texts = list(texts)  # type: ignore[call-overload]
            parsed.extend(texts)
            return nlp.pipe(texts)

    pipeline.context.nlp = Spy()
    english = "Rebels attacked an army post near Idlib on Monday, the monitoring group said."
    french = ("Les rebelles ont attaqué un poste de l'armée près d'Idlib lundi, a indiqué "
              "le groupe de surveillance dans un communiqué publié dans la soirée.")  # fmt: skip
    results = list(pipeline.run_many([Article(english), Article(french), Article(english + " ")]))
    assert [type(r).__name__ for _, r in results] == ["list", "StageError", "list"]
    assert results[1][1].stage == "language.detect.v1"  # type: ignore[union-attr]
    assert parsed == [english, english + " "]
    assert DEFAULT_STAGES.index("language.detect.v1") < DEFAULT_STAGES.index("parse.spacy.v1")


_WARMED: list[str] = []


@stage("test.record.v1", needs=("text",), adds=())
def _record_text(document: Document, context: Context) -> None:
    _WARMED.append(document.text)
    if "Rebels" in document.text:
        raise ValueError("a stage failing on the warm-up article fails on real ones alike")


def test_warm_up_runs_the_chain_once_and_raises_nothing(options: Options) -> None:
    pipeline = Pipeline(options, stages=("test.record.v1",))
    _WARMED.clear()
    pipeline.warm_up()
    assert len(_WARMED) == 1 and "attacked" in _WARMED[0]


def test_warm_up_loads_the_model_and_the_lazily_loaded_tables(options: Options) -> None:
    pipeline = Pipeline(options)
    pipeline.warm_up()
    loaded = vars(pipeline.context)  # cached properties are stored on first use
    assert {"nlp", "gazetteer", "aliases"} <= set(loaded)
